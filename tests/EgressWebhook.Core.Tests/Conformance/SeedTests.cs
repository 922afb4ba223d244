using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Conformance;

public sealed class SeedTests
{
    private static EgressReport Check(IEnumerable<EgressObject> objects, string? outbound = null) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default with { OutboundPolicy = outbound });

    [Fact]
    public void CheckAll_Seed_HasNoFindings()
    {
        var report = Check(Seed.Objects());

        Assert.Empty(report.Findings);
        Assert.Equal(8, report.Objects);
    }

    [Fact]
    public void CheckAll_SeedWithoutGatewayLeg_ReportsEgw113()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "egressgateway-to-external" });

        var report = Check(objects);

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.IncompleteEgressChain);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("mesh-to-egress-gateway", finding.Object.Name);
    }

    [Fact]
    public void CheckAll_SeedWithGatewayLegOnPort8443_ReportsEgw105()
    {
        var objects = Seed.Objects().Select(o => o is VirtualService { Name: "egressgateway-to-external" } vs
            ? vs with { Spec = vs.Spec with { Tls = [vs.Spec.Tls[0] with { Match = [vs.Spec.Tls[0].Match[0] with { Port = 8443 }] }] } }
            : o);

        var report = Check(objects);

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.PassthroughPortChain);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("spec.tls[0].match[0].port", finding.Path);
        Assert.Contains(new ObjectRef("Gateway", "default", "istio-egressgateway"), finding.Related);
    }

    [Fact]
    public void CheckAll_SeedWithoutCnnEntryUnderAllowAny_SidecarsWarn_TheGatewayLegErrs()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is ServiceEntry { Name: "cnn" } or MeshConfig);

        var report = Check(objects, OutboundPolicies.AllowAny);

        // the sidecars pass an unknown host through under ALLOW_ANY; the gateway's route has no cluster to go to
        var error = Assert.Single(report.Findings, f => f.Severity == Severity.Error);
        Assert.Equal((RuleIds.DestinationHostNotRegistered, "egressgateway-to-external"), (error.Rule, error.Object.Name));
        Assert.Contains(report.Findings, f => f.Severity == Severity.Warning && f.Object.Name == "mesh-to-egress-gateway");
    }

    [Fact]
    public void CheckAll_SeedWithoutCnnEntryUnderRegistryOnly_ReportsErrors()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is ServiceEntry { Name: "cnn" });

        var report = Check(objects);

        Assert.Contains(report.Findings, f => f.Severity == Severity.Error && f.Rule == RuleIds.DestinationHostNotRegistered);
    }
}
