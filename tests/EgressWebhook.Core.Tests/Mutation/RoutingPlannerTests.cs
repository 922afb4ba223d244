using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Mutation;

public sealed class RoutingPlannerTests
{
    private static readonly GatewayServiceRef EgressGateway = new("istio-system", "istio-egressgateway");

    private static Service GatewayService() => Seed.Objects().OfType<Service>().Single();

    private static ServiceEntry SeedCnn() => Seed.Objects().OfType<ServiceEntry>().Single(se => se.Name == "cnn");

    private static RoutingPlan Plan(ServiceEntry entry, params EgressObject[] others) =>
        RoutingPlanner.Plan(entry, EgressGateway, SnapshotView.Of(EgressSnapshot.Create([entry, .. others])));

    private static ServiceEntry Entry(string name, string host, params ServicePortSpec[] ports) => new()
    {
        ApiVersion = "networking.istio.io/v1",
        Metadata = new ObjectMeta { Name = name, Namespace = "default" },
        Spec = new ServiceEntrySpec { Hosts = [host], Ports = ports, Resolution = Resolutions.Dns },
    };

    [Theory]
    [InlineData("ambient", true)]
    [InlineData("none", false)]
    public void Plan_EntryParentOfAnHttpRoute_AmbientIsRoutedByItsWaypoint_SidecarModeGetsEgw404(string dataplaneMode, bool routed)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.TestData, "mutation", "ambient-gateway-api-parent-waypoint-label-defaulted", "input.yaml"));
        Assert.Contains("istio.io/dataplane-mode: ambient", text, StringComparison.Ordinal);
        var objects = ManifestReader.Read(text.Replace("istio.io/dataplane-mode: ambient", $"istio.io/dataplane-mode: {dataplaneMode}", StringComparison.Ordinal));
        var entry = objects.OfType<ServiceEntry>().Single();
        var view = SnapshotView.Of(EgressSnapshot.Create(objects));

        var plan = RoutingPlanner.Plan(entry, new GatewayServiceRef("shop", "egress-waypoint"), view);

        Assert.Equal(routed, plan.Routed);
        Assert.Empty(plan.Objects);
        if (routed)
        {
            Assert.Empty(plan.Notices);
            Assert.Equal(new GatewayServiceRef("shop", "egress-waypoint"), plan.Waypoint);
            Assert.Equal(["HTTPRoute shop/httpbin-timeout"], WaypointRouting.RoutesAtWaypoint(entry, view).Select(r => r.Display));
        }
        else
        {
            Assert.Contains(plan.Notices, n => n.Rule == RuleIds.RoutingSkippedGatewayApiRoute && n.Message.Contains("HTTPRoute shop/httpbin-timeout", StringComparison.Ordinal));
            Assert.Null(plan.Waypoint);
        }
    }

    [Fact]
    public void Plan_NameTakenByAnObjectNotGeneratedForTheEntry_NoRouting_Egw405NamesIt()
    {
        // the user's own DestinationRule happens to have the name of the planned gateway DestinationRule
        var users = new DestinationRule
        {
            Metadata = new ObjectMeta { Name = RoutingPlanner.Names.GatewayRule(SeedCnn()), Namespace = SeedCnn().Namespace },
            Spec = new DestinationRuleSpec { Host = "istio-egressgateway.istio-system.svc.cluster.local" },
        };

        var plan = Plan(SeedCnn(), GatewayService(), users);

        Assert.Empty(plan.Objects);
        var notice = Assert.Single(plan.Notices);
        Assert.Equal(RuleIds.RoutingSkippedConflictingRoute, notice.Rule);
        Assert.Equal([users.Ref], notice.Related);
        Assert.Contains("was not generated for this entry", notice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_SeedCnn_RendersTheSeedsOwnChain()
    {
        var seed = Seed.Objects();
        var service = GatewayService();

        var plan = Plan(SeedCnn(), service);

        Assert.Empty(plan.Notices);
        var rendered = EgressChain.Follow([SeedCnn(), service, .. plan.Objects], "edition.cnn.com", 443);
        var original = EgressChain.Follow(seed, "edition.cnn.com", 443);
        Assert.Equal(original, rendered);
        rendered.AssertConsistent(service, SeedCnn());

        // the selector is the gateway Service's own: it picks the same workload as the seed's istio: egressgateway
        var view = SnapshotView.Of(EgressSnapshot.Create(seed));
        var seedSelector = seed.OfType<Gateway>().Single().Spec.Selector;
        var renderedSelector = plan.Objects.OfType<Gateway>().Single().Spec.Selector;
        Assert.True(SnapshotView.Contains(renderedSelector, seedSelector));
        Assert.Equal(view.ServicesSelecting(seedSelector).Select(s => s.Key), view.ServicesSelecting(renderedSelector).Select(s => s.Key));
    }

    [Fact]
    public void Plan_SeedCnn_GivesGatewayTwoLegsAndDestinationRuleWithDeterministicNames()
    {
        var plan = Plan(SeedCnn(), GatewayService());

        Assert.Equal(
            ["Gateway default/cnn-egress", "VirtualService default/cnn-egress-mesh", "VirtualService default/cnn-egress-tls", "DestinationRule default/cnn-egress"],
            plan.Objects.Select(o => o.Ref.ToString()));
        Assert.All(plan.Objects, o => Assert.True(RuleContext.IsGenerated(o)));
        Assert.All(plan.Objects, o => Assert.Equal(RoutingPlanner.ApiVersion, o.ApiVersion));
        var dr = plan.Objects.OfType<DestinationRule>().Single();
        Assert.Equal("istio-egressgateway.istio-system.svc.cluster.local", dr.Spec.Host);
        Assert.Empty(dr.Spec.Subsets);
        Assert.All(plan.Objects.OfType<VirtualService>().SelectMany(vs => vs.Spec.Tls.SelectMany(r => r.Route)), r => Assert.Null(r.Destination!.Subset));
    }

    [Fact]
    public void Plan_EntryWithUid_OwnsEveryObject()
    {
        var entry = SeedCnn() with { Metadata = SeedCnn().Metadata with { Uid = "7c9e6679-7425-40de-944b-e07fc1f90ae7" } };

        var plan = Plan(entry, GatewayService());

        Assert.All(plan.Objects, o =>
        {
            var owner = Assert.Single(o.Metadata.OwnerReferences);
            Assert.Equal(("networking.istio.io/v1", "ServiceEntry", "cnn", "7c9e6679-7425-40de-944b-e07fc1f90ae7", true, true),
                (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));
        });
    }

    [Fact]
    public void Plan_EntryWithoutUid_HasNoOwnerReference()
    {
        // the API server rejects an ownerReference without uid; rendered (GitOps) objects go without one
        var plan = Plan(SeedCnn(), GatewayService());

        Assert.All(plan.Objects, o => Assert.Empty(o.Metadata.OwnerReferences));
    }

    [Fact]
    public void Plan_HttpAndHttpsPorts_GivesHttpServerAndPassthroughServerOnServicePorts()
    {
        var entry = Entry("cnn", "edition.cnn.com",
            new ServicePortSpec { Number = 80, Name = "http-port", Protocol = "HTTP" },
            new ServicePortSpec { Number = 443, Name = "https", Protocol = "HTTPS" });
        var service = GatewayService();

        var plan = Plan(entry, service);

        Assert.Empty(plan.Notices);
        Assert.Equal([("cnn-egress", 443, "TLS", "PASSTHROUGH"), ("cnn-egress-http", 80, "HTTP", (string?)null)],
            plan.Objects.OfType<Gateway>().SelectMany(g => g.Spec.Servers.Select(s => (g.Name, s.Port!.Number, s.Port.Protocol!, s.Tls?.Mode))));

        // no http rule is bound to a Gateway that has a PASSTHROUGH server (EGW105a)
        var gateways = plan.Objects.OfType<Gateway>().ToDictionary(g => g.Name);
        Assert.All(plan.Objects.OfType<VirtualService>().Where(vs => vs.Spec.Http.Count > 0 && !vs.Spec.Gateways.Contains("mesh")),
            vs => Assert.All(vs.Spec.Gateways, g => Assert.DoesNotContain(gateways[g].Spec.Servers, s => s.Tls is not null)));
        var objects = new EgressObject[] { entry, service }.Concat(plan.Objects).ToList();
        EgressChain.Follow(objects, "edition.cnn.com", 80).AssertConsistent(service, entry);
        EgressChain.Follow(objects, "edition.cnn.com", 443).AssertConsistent(service, entry);
    }

    [Fact]
    public void Plan_EntryPortWithoutSameServicePort_UsesServicePortNotTargetPort()
    {
        var entry = Entry("api", "api.example.com", new ServicePortSpec { Number = 8443, Name = "tls", Protocol = "TLS" });
        var service = GatewayService();

        var plan = Plan(entry, service);

        var chain = EgressChain.Follow([entry, service, .. plan.Objects], "api.example.com", 8443);
        Assert.Equal(443, chain.MeshDestinationPort);
        Assert.Equal(443, chain.ServerPort);
        Assert.Equal(8443, chain.GatewayDestinationPort);
        chain.AssertConsistent(service, entry);
    }

    [Fact]
    public void Plan_TwoTlsPortsForOneServicePort_RoutesFirstAndWarnsEgw406()
    {
        var entry = Entry("api", "api.example.com",
            new ServicePortSpec { Number = 443, Name = "tls", Protocol = "TLS" },
            new ServicePortSpec { Number = 8443, Name = "tls-alt", Protocol = "TLS" });

        var plan = Plan(entry, GatewayService());

        Assert.True(plan.Routed);
        var notice = Assert.Single(plan.Notices);
        Assert.Equal((RuleIds.RoutingSkippedNoGateway, "spec.ports[1]"), (notice.Rule, notice.Path));
        Assert.Single(plan.Objects.OfType<Gateway>().Single().Spec.Servers);
    }

    [Fact]
    public void Plan_MultiHostHttp_GivesOneGatewayLegPerHost()
    {
        var entry = Entry("debian", "deb.debian.org", new ServicePortSpec { Number = 80, Name = "http", Protocol = "HTTP" }) is var e
            ? e with { Spec = e.Spec with { Hosts = ["deb.debian.org", "security.debian.org"] } }
            : null!;
        var service = GatewayService();

        var plan = Plan(entry, service);

        var legs = plan.Objects.OfType<VirtualService>().Where(vs => !vs.Spec.Gateways.Contains("mesh")).ToList();
        Assert.Equal(["debian-egress-http-0", "debian-egress-http-1"], legs.Select(l => l.Name));
        Assert.Equal(["deb.debian.org", "security.debian.org"], legs.Select(l => l.Spec.Http.Single().Route.Single().Destination!.Host));
        EgressChain.Follow([entry, service, .. plan.Objects], "security.debian.org", 80).AssertConsistent(service, entry);
    }

    [Fact]
    public void Plan_TlsOriginationAnnotation_RoutesHttpToHttpsPortWithSimpleTlsAtTheGatewayOnly()
    {
        var entry = Entry("cnn", "edition.cnn.com",
            new ServicePortSpec { Number = 80, Name = "http-port", Protocol = "HTTP" },
            new ServicePortSpec { Number = 443, Name = "https", Protocol = "HTTPS" }) is var e
            ? e with { Metadata = e.Metadata with { Annotations = new Dictionary<string, string> { [RoutingAnnotations.TlsOrigination] = "true" } } }
            : null!;
        var service = GatewayService();

        var plan = Plan(entry, service);

        Assert.Empty(plan.Notices);
        var chain = EgressChain.Follow([entry, service, .. plan.Objects], "edition.cnn.com", 80);
        Assert.Equal((80, 80, 443), (chain.MeshDestinationPort, chain.ServerPort, chain.GatewayDestinationPort));
        Assert.Equal([80], plan.Objects.OfType<Gateway>().Single().Spec.Servers.Select(s => s.Port!.Number));
        var origination = plan.Objects.OfType<DestinationRule>().Single(d => d.Spec.Host == "edition.cnn.com");
        Assert.Equal(["istio-system"], origination.Spec.ExportTo);
        var setting = Assert.Single(origination.Spec.TrafficPolicy!.PortLevelSettings);
        Assert.Equal((443, ClientTlsModes.Simple, "edition.cnn.com"), (setting.Port!.Number!.Value, setting.Tls!.Mode!, setting.Tls.Sni!));
    }

    [Fact]
    public void Plan_WithItsOwnGeneratedObjectsPresent_GivesTheSamePlan()
    {
        var entry = SeedCnn() with { Metadata = SeedCnn().Metadata with { Uid = "u-1" } };
        var first = Plan(entry, GatewayService());

        var again = Plan(entry, [GatewayService(), .. first.Objects]);

        Assert.Empty(again.Notices);
        Assert.Equal(ManifestWriter.ToYaml(first.Objects), ManifestWriter.ToYaml(again.Objects));
    }

    [Fact]
    public void Plan_RenderedObjectsWithoutOwnerPresent_AreRecognisedByName()
    {
        var first = Plan(SeedCnn(), GatewayService());

        var again = Plan(SeedCnn(), [GatewayService(), .. first.Objects]);

        Assert.Empty(again.Notices);
        Assert.True(again.Routed);
    }

    [Fact]
    public void Plan_AnotherEntrysGeneratedRouteForTheSameHost_RefusesWithEgw405()
    {
        var other = SeedCnn() with { Metadata = SeedCnn().Metadata with { Name = "cnn-other" } };
        var otherPlan = Plan(other, GatewayService());

        var plan = Plan(SeedCnn(), [GatewayService(), .. otherPlan.Objects]);

        Assert.False(plan.Routed);
        Assert.Contains(plan.Notices, n => n.Rule == RuleIds.RoutingSkippedConflictingRoute && n.Related.Contains(new ObjectRef("VirtualService", "default", "cnn-other-egress-mesh")));
        Assert.Contains(plan.Notices, n => n.Rule == RuleIds.RoutingSkippedConflictingRoute && n.Related.Contains(new ObjectRef("Gateway", "default", "cnn-other-egress")));
    }

    [Fact]
    public void Plan_SeedWithItsHandWrittenChain_RefusesWithEgw405()
    {
        var seed = Seed.Objects();

        var plan = RoutingPlanner.Plan(SeedCnn(), EgressGateway, SnapshotView.Of(EgressSnapshot.Create(seed)));

        Assert.False(plan.Routed);
        Assert.Equal(
            [new ObjectRef("Gateway", "default", "istio-egressgateway"), new ObjectRef("VirtualService", "default", "mesh-to-egress-gateway")],
            plan.Notices.Where(n => n.Rule == RuleIds.RoutingSkippedConflictingRoute).SelectMany(n => n.Related).Order());
    }

    [Fact]
    public void Plan_NoticeHeadlines_FitKubernetesWarnings()
    {
        var entry = Entry("x", "*.example.com", new ServicePortSpec { Number = 22, Protocol = "TCP" }) with { };

        var plan = RoutingPlanner.Plan(entry, new GatewayServiceRef("a-very-long-namespace-name-for-egress", "a-very-long-gateway-service-name"), SnapshotView.Of(EgressSnapshot.Empty));

        Assert.NotEmpty(plan.Notices);
        Assert.All(plan.Notices, n => Assert.InRange(n.Message.Length, 1, Finding.MaxHeadline));
    }

    [Fact]
    public void Plan_SeedCnnRendered_ChecksCleanUnderRegistryOnly()
    {
        var service = GatewayService();
        var plan = Plan(SeedCnn(), service);

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create([SeedCnn(), service, .. plan.Objects]),
            RuleSettings.Default with { OutboundPolicy = OutboundPolicies.RegistryOnly });

        Assert.Empty(report.Findings);
    }

    private static Sidecar TeamSidecar(params string[] hosts) => new()
    {
        Metadata = new ObjectMeta { Name = "default", Namespace = "team-c" },
        Spec = new SidecarSpec { Egress = [new IstioEgressListener { Hosts = hosts }] },
    };

    private static EgressReport CheckWith(RoutingPlan plan, params EgressObject[] others) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create([plan.Entry, .. plan.Objects, .. others]),
            RuleSettings.Default with { OutboundPolicy = OutboundPolicies.RegistryOnly });

    [Fact]
    public void Plan_SidecarHidesTheGatewayService_NothingGenerated_Egw409NamesTheSidecar()
    {
        // issue 11: Sidecar team-c/default with egress hosts ["./*"]; the generated mesh leg would fail EGW101
        var entry = Entry("teamc", "api.example.com", new ServicePortSpec { Number = 443, Name = "tls", Protocol = "TLS" }) with
        {
            Metadata = new ObjectMeta { Name = "teamc", Namespace = "team-c" },
        };
        var sidecar = TeamSidecar("./*");

        var plan = Plan(entry, GatewayService(), sidecar);

        Assert.False(plan.Routed);
        var notice = Assert.Single(plan.Notices);
        Assert.Equal(RuleIds.RoutingSkippedNotVisible, notice.Rule);
        Assert.Contains(sidecar.Ref, notice.Related);
        Assert.EndsWith("add \"istio-system/*\" to egress hosts", notice.Message, StringComparison.Ordinal);

        // what the planner refuses is what the checks refuse: the same entry planned without the Sidecar, checked with it
        var unscoped = Plan(entry, GatewayService());
        Assert.True(unscoped.Routed);
        var report = CheckWith(unscoped, GatewayService(), sidecar);
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.DestinationHostNotRegistered && f.Severity == Severity.Error && f.Object.Name == "teamc-egress-mesh");
    }

    [Fact]
    public void Plan_SidecarAllowsTheGatewayNamespace_RoutingChecksClean()
    {
        var entry = Entry("teamc", "api.example.com", new ServicePortSpec { Number = 443, Name = "tls", Protocol = "TLS" }) with
        {
            Metadata = new ObjectMeta { Name = "teamc", Namespace = "team-c" },
        };
        var sidecar = TeamSidecar("./*", "istio-system/*");

        var plan = Plan(entry, GatewayService(), sidecar);

        Assert.True(plan.Routed);
        Assert.Equal(0, CheckWith(plan, GatewayService(), sidecar).Errors);
    }

    [Fact]
    public void Plan_EntryHiddenFromTheGatewayNamespace_NothingGenerated_AsTheChecksWouldRefuse()
    {
        var entry = SeedCnn() with { Spec = SeedCnn().Spec with { ExportTo = ["."] } };

        var plan = Plan(entry, GatewayService());

        Assert.False(plan.Routed);
        var notice = Assert.Single(plan.Notices);
        Assert.Equal(RuleIds.RoutingSkippedNotVisible, notice.Rule);
        Assert.Equal("spec.exportTo", notice.Path);

        // the routing of the exported entry, with this entry in its place: its gateway leg fails EGW101 from istio-system
        var visible = Plan(SeedCnn(), GatewayService());
        var report = CheckWith(visible with { Entry = entry }, GatewayService());
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.DestinationHostNotRegistered && f.Severity == Severity.Error && f.Object.Name == "cnn-egress-tls");
    }

    [Fact]
    public void Plan_EntryExportedToTheGatewayNamespaceOnly_Routed()
    {
        var entry = SeedCnn() with { Spec = SeedCnn().Spec with { ExportTo = [".", "istio-system"] } };

        var plan = Plan(entry, GatewayService());

        Assert.True(plan.Routed);
        Assert.Equal(0, CheckWith(plan, GatewayService()).Errors);
    }

    [Fact]
    public void Plan_MeshDefaultKeepsVirtualServicesInTheirNamespace_NothingGenerated()
    {
        var mesh = new MeshConfig { Metadata = new ObjectMeta { Name = "istio" }, DefaultVirtualServiceExportTo = ["."] };

        var plan = Plan(SeedCnn(), GatewayService(), mesh);

        Assert.False(plan.Routed);
        Assert.Equal(RuleIds.RoutingSkippedNotVisible, Assert.Single(plan.Notices).Rule);
    }
}
