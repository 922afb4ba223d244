using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.CrossResource;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

public sealed class Egw113IncompleteEgressChainTests
{
    private static IReadOnlyList<Finding> Egw113(IEnumerable<EgressObject> objects) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default).Findings
            .Where(f => f.Rule == RuleIds.IncompleteEgressChain).ToList();

    [Fact]
    public void Check_SeedWithoutMeshLeg_WarnsOnGatewayLeg()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "mesh-to-egress-gateway" });

        var finding = Assert.Single(Egw113(objects));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("egressgateway-to-external", finding.Object.Name);
        Assert.Equal("spec.tls[0]", finding.Path);
    }

    [Fact]
    public void Check_GatewayServiceUnknown_IsSilent()
    {
        // without the gateway's Service the destination cannot be told from any other host
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "egressgateway-to-external" } or Service);

        Assert.Empty(Egw113(objects));
    }

    [Fact]
    public void Check_GatewayLegForAnotherHost_ReportsErrorNamingTheHost()
    {
        var objects = Seed.Objects().Select(o => o is VirtualService { Name: "egressgateway-to-external" } vs
            ? vs with { Spec = vs.Spec with { Hosts = ["www.google.com"], Tls = [vs.Spec.Tls[0] with { Match = [vs.Spec.Tls[0].Match[0] with { SniHosts = ["www.google.com"] }] }] } }
            : o);

        var error = Assert.Single(Egw113(objects), f => f.Severity == Severity.Error);
        Assert.Equal("mesh-to-egress-gateway", error.Object.Name);
        Assert.StartsWith("edition.cnn.com ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WildcardGatewayLegCoversMeshHost_IsAccepted()
    {
        var objects = Seed.Objects().Select(o => o is VirtualService { Name: "egressgateway-to-external" } vs
            ? vs with { Spec = vs.Spec with { Hosts = ["*.cnn.com"], Tls = [vs.Spec.Tls[0] with { Match = [vs.Spec.Tls[0].Match[0] with { SniHosts = ["*.cnn.com"] }] }] } }
            : o);

        Assert.Empty(Egw113(objects));
    }

    [Fact]
    public void AffectedBy_GatewayLeg_ReturnsMeshLegThroughTheGatewaysService()
    {
        var snapshot = EgressSnapshot.Create(Seed.Objects());
        var leg = snapshot.Find(new ObjectKey(ResourceKind.VirtualService, "default", "egressgateway-to-external"))!;

        var affected = new Egw113IncompleteEgressChain().AffectedBy(leg, SnapshotView.Of(snapshot)).Select(o => o.Name).Distinct();

        Assert.Equal(["mesh-to-egress-gateway"], affected);
    }

    [Fact]
    public void CheckChange_GatewayLegLosesItsHost_ReportsErrorCausedOnMeshLeg()
    {
        var snapshot = EgressSnapshot.Create(Seed.Objects());
        var old = (VirtualService)snapshot.Find(new ObjectKey(ResourceKind.VirtualService, "default", "egressgateway-to-external"))!;
        var updated = old with { Spec = old.Spec with { Hosts = ["www.google.com"], Tls = [old.Spec.Tls[0] with { Match = [old.Spec.Tls[0].Match[0] with { SniHosts = ["www.google.com"] }] }] } };

        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Update, updated, old), RuleSettings.Default);

        Assert.Contains(report.Findings, f => f.Rule == RuleIds.IncompleteEgressChain && f.Severity == Severity.Error &&
                                              f.Object == new ObjectRef("VirtualService", "default", "mesh-to-egress-gateway"));
    }
}
