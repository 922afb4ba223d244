using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW101: a destination host no ServiceEntry or Service registers for the client (wildcards, exportTo, Sidecar scope, severity by outbound mode).</summary>
public sealed class Egw101DestinationHostNotRegisteredTests
{
    [Theory]
    [InlineData("*.example.com", "api.example.com", false)]
    [InlineData("*.example.com", "a.b.example.com", false)]
    [InlineData("*.example.com", "example.com", true)]
    [InlineData("api.example.com", "www.example.com", true)]
    public void Egw101_WildcardServiceEntry_CoversOnlyNamesUnderIt(string seHost, string dest, bool fires)
    {
        var report = Check(Se("se", seHost, resolution: "NONE"), Vs(dest, dest));

        Assert.Equal(fires, Of(report, RuleIds.DestinationHostNotRegistered).Count == 1);
    }

    [Fact]
    public void Egw101_ServiceEntryExportedElsewhere_IsUnregisteredForClient()
    {
        var hidden = Check(Se("se", "api.example.com", ns: "egress", extra: "  exportTo: [\".\"]"), Vs("api.example.com", "api.example.com"));
        var exported = Check(Se("se", "api.example.com", ns: "egress", extra: "  exportTo: [default]"), Vs("api.example.com", "api.example.com"));

        var finding = Assert.Single(Of(hidden, RuleIds.DestinationHostNotRegistered));
        Assert.Contains("not exported to default", finding.Message, StringComparison.Ordinal);
        Assert.Contains(new ObjectRef("ServiceEntry", "egress", "se"), finding.Related);
        Assert.Empty(Of(exported, RuleIds.DestinationHostNotRegistered));
    }

    [Fact]
    public void Egw101_SidecarEgressHosts_ScopeMeshLegsButNotGatewayLegs()
    {
        var sidecar = Sidecar("default", "[\"./*\"]");
        var se = Se("se", "api.example.com", ns: "egress");

        var mesh = Check(RegistryOnly, sidecar, se, Vs("api.example.com", "api.example.com"));
        var gateway = Check(RegistryOnly, sidecar, se, EgressGateway("api.example.com"), Vs("api.example.com", "api.example.com", gateways: "[egress]"));

        var finding = Assert.Single(Of(mesh, RuleIds.DestinationHostNotRegistered));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains(new ObjectRef("Sidecar", "default", "default"), finding.Related);
        Assert.Empty(Of(gateway, RuleIds.DestinationHostNotRegistered));
    }

    [Fact]
    public void Egw101_Severity_FollowsTheLegsOutboundMode()
    {
        // the namespace's Sidecar says REGISTRY_ONLY, the mesh ALLOW_ANY: mesh legs error; a gateway leg errs whatever the
        // mode, since a gateway has no passthrough for a route whose cluster does not exist (503 NC)
        var sidecar = Sidecar("default", "[\"*/*\"]", "REGISTRY_ONLY");

        var mesh = Check(sidecar, Vs("api.example.com", "api.example.com"));
        var gateway = Check(sidecar, EgressGateway("api.example.com"), Vs("api.example.com", "api.example.com", gateways: "[egress]"));
        var allowAny = Check(Vs("api.example.com", "api.example.com"));

        Assert.Equal(Severity.Error, Assert.Single(Of(mesh, RuleIds.DestinationHostNotRegistered)).Severity);
        var atGateway = Assert.Single(Of(gateway, RuleIds.DestinationHostNotRegistered));
        Assert.Equal(Severity.Error, atGateway.Severity);
        Assert.Contains("503 NC", atGateway.Message, StringComparison.Ordinal);
        var warned = Assert.Single(Of(allowAny, RuleIds.DestinationHostNotRegistered));
        Assert.Equal(Severity.Warning, warned.Severity);
        Assert.Contains("PassthroughCluster", warned.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw101_ClusterLocalHostWithoutAnyService_OnlyWarnsUnderRegistryOnly()
    {
        const string other = """
            apiVersion: v1
            kind: Service
            metadata: {name: other, namespace: apps}
            spec:
              ports: [{name: http, port: 80}]
            """;
        var vs = Vs("x.example.com", "istio-egressgateway.istio-system.svc.cluster.local");

        var noServices = Check(RegistryOnly, vs);
        var withServices = Check(RegistryOnly, other, vs);

        Assert.Equal(Severity.Warning, Assert.Single(Of(noServices, RuleIds.DestinationHostNotRegistered)).Severity);
        Assert.Equal(Severity.Error, Assert.Single(Of(withServices, RuleIds.DestinationHostNotRegistered)).Severity);
    }
}
