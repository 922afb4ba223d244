using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Snapshot;

/// <summary>Many teams' Gateways on one shared egress gateway workload: the rules find the Gateways that matter through
/// the server-host index, and give the same findings as with the seed's single Gateway.</summary>
public sealed class SharedGatewayWorkloadTests
{
    private static Gateway TeamGateway(int i, string host, int port = 443, string selector = "egressgateway") =>
        (Gateway)ManifestReader.Read($$"""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw-{{i}}, namespace: team-{{i}}}
            spec:
              selector: {istio: {{selector}}}
              servers:
              - port: {number: {{port}}, name: tls, protocol: TLS}
                hosts: ["team-{{i}}/{{host}}"]
                tls: {mode: PASSTHROUGH}
            """).Single();

    /// <summary>The seed plus 300 other teams' Gateways on the same workload, for other hosts.</summary>
    private static List<EgressObject> SeedOnSharedWorkload() =>
        [.. Seed.Objects(), .. Enumerable.Range(0, 300).Select(i => TeamGateway(i, $"api-{i}.example.com"))];

    private static VirtualService GatewayLegOnPort(int port)
    {
        var leg = Seed.Objects().OfType<VirtualService>().Single(v => v.Name == "egressgateway-to-external");
        var tls = leg.Spec.Tls[0];
        return leg with
        {
            Spec = leg.Spec with { Tls = [tls with { Match = [tls.Match[0] with { Port = port }] }] },
        };
    }

    [Fact]
    public void SeedChain_StaysClean_AmongOtherTeamsGateways()
    {
        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(SeedOnSharedWorkload()), RuleSettings.Default);

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void BrokenPortChain_IsReportedAgainstTheSeedsGateway_AmongOtherTeamsGateways()
    {
        var snapshot = EgressSnapshot.Create(SeedOnSharedWorkload());
        var old = snapshot.Find(new ObjectKey(ResourceKind.VirtualService, "default", "egressgateway-to-external"));

        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Update, GatewayLegOnPort(8443), old), RuleSettings.Default);

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.PassthroughPortChain);
        Assert.Contains(finding.Related, r => r.Kind == "Gateway" && r.Name == "istio-egressgateway");
        Assert.DoesNotContain(report.Findings, f => f.Related.Any(r => r.Namespace.StartsWith("team-", StringComparison.Ordinal)));
    }

    [Fact]
    public void MeshLegWithoutGatewayLeg_DiesAtTheGateway_EvenWhenOtherTeamsLegsExist()
    {
        var objects = SeedOnSharedWorkload().Where(o => o.Name != "egressgateway-to-external").ToList();

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default);

        Assert.Contains(report.Findings, f => f.Rule == RuleIds.IncompleteEgressChain && f.Object.Name == "mesh-to-egress-gateway");
    }

    [Fact]
    public void ConflictingServer_IsFoundOnTheSameWorkloadOnly()
    {
        var snapshot = EgressSnapshot.Create([TeamGateway(1, "api.example.com"), TeamGateway(2, "other.example.com"),
            TeamGateway(3, "api.example.com", selector: "other-gateway")]);
        var clash = TeamGateway(1, "api.example.com") with { Metadata = new ObjectMeta { Name = "gw-1b", Namespace = "team-1" } };

        var view = SnapshotView.With(snapshot, clash);

        Assert.Equal(["gw-1"], view.GatewaysOnSameWorkloadServingItsHosts(clash).Select(g => g.Name));
        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, clash, null), RuleSettings.Default);
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.ConflictingGateways && f.Related.Any(r => r.Name == "gw-1"));
    }

    [Fact]
    public void GatewaysServing_FollowsTheOverlay()
    {
        var snapshot = EgressSnapshot.Create([TeamGateway(1, "api.example.com"), TeamGateway(2, "*.example.com")]);
        var moved = TeamGateway(1, "new.example.com");

        Assert.Equal(["gw-1", "gw-2"], SnapshotView.Of(snapshot).GatewaysServing("api.example.com").Select(m => m.Item.Name).Order());
        var updated = SnapshotView.With(snapshot, moved);
        Assert.Equal(["gw-2"], updated.GatewaysServing("api.example.com").Select(m => m.Item.Name));
        Assert.Equal(["gw-1", "gw-2"], updated.GatewaysServing("new.example.com").Select(m => m.Item.Name).Order());
        Assert.DoesNotContain(SnapshotView.Without(snapshot, moved.Key).GatewaysServing("new.example.com"), m => m.Item.Name == "gw-1");
    }

    [Fact]
    public void AnyGatewaySelectingPodsOf_FollowsTheOverlay()
    {
        var service = Seed.Objects().OfType<Service>().Single();
        var gateway = TeamGateway(1, "api.example.com");
        var snapshot = EgressSnapshot.Create([service, gateway, TeamGateway(2, "x.example.com", selector: "other")]);

        Assert.True(SnapshotView.Of(snapshot).AnyGatewaySelectingPodsOf(service));
        Assert.False(SnapshotView.Without(snapshot, gateway.Key).AnyGatewaySelectingPodsOf(service));
        Assert.False(SnapshotView.With(snapshot, TeamGateway(1, "api.example.com", selector: "elsewhere")).AnyGatewaySelectingPodsOf(service));
        Assert.True(SnapshotView.With(EgressSnapshot.Create([service]), gateway).AnyGatewaySelectingPodsOf(service));
    }

    [Fact]
    public void PartialWildcardServerHost_IsFoundLikeAnyOther()
    {
        // "*foo.example.com" is a wildcard label: it matches api.foo.example.com by plain suffix, as Istio does
        var snapshot = EgressSnapshot.Create([TeamGateway(1, "*foo.example.com"), TeamGateway(2, "*foo.example.com"), TeamGateway(3, "bar.example.com")]);
        var view = SnapshotView.Of(snapshot);

        Assert.Equal(["gw-1", "gw-2"], view.GatewaysServing("api.foo.example.com").Select(m => m.Item.Name).Order());
        Assert.Equal(["gw-1", "gw-2"], view.GatewaysServing("*.foo.example.com").Select(m => m.Item.Name).Order());
        Assert.Equal(["gw-1", "gw-2", "gw-3"], view.GatewaysServing("*").Select(m => m.Item.Name).Order());
        Assert.Equal(["gw-1", "gw-2"], view.GatewaysServing("*oo.example.com").Select(m => m.Item.Name).Order());
        Assert.Empty(view.GatewaysServing("api.bar.example.com"));
        Assert.Equal(["gw-2"], view.GatewaysOnSameWorkloadServingItsHosts((Gateway)snapshot.Find(new ObjectKey(ResourceKind.Gateway, "team-1", "gw-1"))!).Select(g => g.Name));
    }
}
