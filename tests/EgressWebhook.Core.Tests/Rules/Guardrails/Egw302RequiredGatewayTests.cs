using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW302: the required egress path, through the egress gateway (<c>requiredGateway</c>) or a waypoint
/// (<c>requiredWaypoint</c>).</summary>
public sealed class Egw302RequiredGatewayTests
{
    private static readonly string ViaGateway = PolicyYaml("via-gateway", "requiredGateway: istio-system/istio-egressgateway");

    private static readonly string ViaWaypoint = PolicyYaml("via-waypoint", "requiredWaypoint: {namespace: istio-egress, name: egress-waypoint}");

    private const string GatewayHost = "istio-egressgateway.istio-system.svc.cluster.local";

    private static string EgressGateway(string selector = "{istio: egressgateway}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: egress, namespace: {{Team}}}
        spec:
          selector: {{selector}}
          servers:
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: [api.example.com]
            tls: {mode: PASSTHROUGH}
        """;

    private static readonly string MeshLeg = Vs("mesh-to-gateway", "api.example.com", GatewayHost);

    private static readonly string GatewayLeg = Vs("gateway-to-external", "api.example.com", "api.example.com", gateways: "[egress]");

    private static readonly string Api = Se("api", "api.example.com");

    private static List<Finding> Egw302(EgressReport report) => Of(report, RuleIds.PolicyRequiredGateway);

    [Fact]
    public void Egw302_EntryWithoutAnyRoute_IsAnErrorAwaitingTheMeshRoute()
    {
        var report = Check(ViaGateway, EgressGatewayService, Api);

        var finding = Assert.Single(Egw302(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", Team, "api"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.StartsWith("api.example.com has no mesh route to istio-system/", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; route it via the gateway (EgressPolicy via-gateway)", finding.Message, StringComparison.Ordinal);
        Assert.Equal(ResourceKind.VirtualService, finding.Awaits?.Kind);
        Assert.Equal($"a mesh route of api.example.com to istio-system/istio-egressgateway", finding.Awaits?.What);
        Assert.Equal("via-gateway", finding.Policy);
    }

    [Fact]
    public void Egw302_NearMiss_RoutedThroughTheGatewayBothLegs_NoFinding()
    {
        var report = Check(ViaGateway, EgressGatewayService, Api, EgressGateway(), MeshLeg, GatewayLeg);

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_MeshLegWithoutGatewayLeg_AwaitsTheGatewayLeg()
    {
        var report = Check(ViaGateway, EgressGatewayService, Api, EgressGateway(), MeshLeg);

        var finding = Assert.Single(Egw302(report));
        Assert.Contains("has no gateway leg on istio-system/", finding.Message, StringComparison.Ordinal);
        Assert.Equal("the gateway leg of api.example.com on istio-system/istio-egressgateway", finding.Awaits?.What);
    }

    [Fact]
    public void Egw302_GatewayLegWithoutMeshLeg_StillNoMeshRoute()
    {
        var report = Check(ViaGateway, EgressGatewayService, Api, EgressGateway(), GatewayLeg);

        Assert.Contains("no mesh route to", Assert.Single(Egw302(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw302_GatewayLegOnAGatewayOfAnotherWorkload_IsNoGatewayLeg()
    {
        var report = Check(ViaGateway, EgressGatewayService, Api, EgressGateway("{istio: ingressgateway}"), MeshLeg, GatewayLeg);

        Assert.Contains("no gateway leg", Assert.Single(Egw302(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw302_RequiredGatewayServiceMissing_NoGatewayLegCanExist()
    {
        var report = Check(ViaGateway, Api, EgressGateway(), MeshLeg, GatewayLeg);

        Assert.Contains("no gateway leg", Assert.Single(Egw302(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw302_MeshLegNotExportedToTheEntrysNamespace_DoesNotCount()
    {
        var meshLeg = Vs("mesh-to-gateway", "api.example.com", GatewayHost, ns: "team-b", extra: "exportTo: [\".\"]");

        var report = Check(ViaGateway, EgressGatewayService, Api, EgressGateway(), meshLeg, GatewayLeg);

        Assert.Contains(Egw302(report), f => f.Object.Kind == "ServiceEntry" && f.Message.Contains("no mesh route", StringComparison.Ordinal));
    }

    [Fact]
    public void Egw302_MeshInternalEntry_IsNotEgress()
    {
        var report = Check(ViaGateway, EgressGatewayService, Se("api", "api.example.com", extra: "location: MESH_INTERNAL"));

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_ClusterLocalHostOfAnEntry_IsSkipped()
    {
        var report = Check(ViaGateway, EgressGatewayService, Se("db", "db.team-a.svc.cluster.local"));

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_NamespaceNotSelected_NoFinding()
    {
        var report = Check(ViaGateway, EgressGatewayService, Se("api", "api.example.com", ns: "team-b"));

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_EntryWithTwoHosts_ReportsEachOnItsOwnPath()
    {
        var se = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api, namespace: team-a}
            spec:
              hosts: [api.example.com, www.example.com, api.example.com]
              ports: [{number: 443, name: tls, protocol: TLS}]
              resolution: DNS
            """;

        var report = Check(ViaGateway, EgressGatewayService, se);

        // the repeated host is reported once
        Assert.Equal(["spec.hosts[0]", "spec.hosts[1]"], Egw302(report).Select(f => f.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Egw302_SidecarsRouteAnExternalHostDirectly_FiresOnTheDestination()
    {
        var report = Check(ViaGateway, EgressGatewayService, Api, Vs("direct", "api.example.com", "api.example.com"));

        var finding = Assert.Single(Egw302(report), f => f.Object.Kind == "VirtualService");
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("VirtualService", Team, "direct"), finding.Object);
        Assert.Equal("spec.tls[0].route[0].destination.host", finding.Path);
        Assert.StartsWith("sidecars route api.example.com around istio-system/", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; route it via the gateway (EgressPolicy via-gateway)", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GatewayHost, "[mesh]")] // the mesh leg itself
    [InlineData("api.example.com", "[egress]")] // the gateway leg: not the sidecars
    [InlineData("reviews.team-a.svc.cluster.local", "[mesh]")] // in-cluster
    public void Egw302_NearMiss_MeshRoutesThatAreNotAroundTheGateway(string dest, string gateways)
    {
        var report = Check(ViaGateway, EgressGatewayService, EgressGateway(), Vs("vs", "api.example.com", dest, gateways: gateways));

        Assert.DoesNotContain(Egw302(report), f => f.Object.Kind == "VirtualService");
    }

    [Fact]
    public void Egw302_DestinationRegisteredOnlyMeshInternal_IsNotEgress()
    {
        var report = Check(ViaGateway, EgressGatewayService, Se("legacy", "legacy.corp.internal", extra: "location: MESH_INTERNAL"),
            Vs("vs", "legacy.corp.internal", "legacy.corp.internal"));

        Assert.DoesNotContain(Egw302(report), f => f.Object.Kind == "VirtualService");
    }

    [Fact]
    public void Egw302_PolicyAction_Warn_IsAWarning()
    {
        var report = Check(PolicyYaml("via-gateway", "action: Warn\nrequiredGateway: istio-system/istio-egressgateway"), EgressGatewayService, Api);

        Assert.Equal(Severity.Warning, Assert.Single(Egw302(report)).Severity);
    }

    // the ambient form, requiredWaypoint

    private static readonly string RequiredWaypoint = Waypoint("egress-waypoint", "istio-egress");

    private static string BoundEntry(string name = "egress-waypoint", string ns = "istio-egress") =>
        Se("api", "api.example.com", labels: $"{{istio.io/use-waypoint: {name}, istio.io/use-waypoint-namespace: {ns}}}");

    [Fact]
    public void Egw302_Waypoint_EntryNotBound_FiresOnTheLabel()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, Api);

        var finding = Assert.Single(Egw302(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", Team, "api"), finding.Object);
        Assert.Equal("metadata.labels[istio.io/use-waypoint]", finding.Path);
        Assert.Equal("not bound to istio-egress/egress-waypoint; set istio.io/use-waypoint(-namespace) (EgressPolicy via-waypoint)", finding.Message);
    }

    [Fact]
    public void Egw302_Waypoint_NearMiss_EntryBoundToTheRequiredWaypoint()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, BoundEntry());

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_Waypoint_NearMiss_NamespaceLabelBindsIt()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, Api,
            Namespace(Team, "{istio.io/use-waypoint: egress-waypoint, istio.io/use-waypoint-namespace: istio-egress}"));

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_Waypoint_InTheEntrysNamespace_FixNamesTheLabelValue()
    {
        var report = Check(PolicyYaml("via-waypoint", $"requiredWaypoint: {{namespace: {Team}, name: wp}}"), Waypoint("wp", Team), Api);

        Assert.Contains("set istio.io/use-waypoint=wp", Assert.Single(Egw302(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw302_Waypoint_EntryOptsOut_SaysSo()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, Se("api", "api.example.com", labels: "{istio.io/use-waypoint: none}"),
            Namespace(Team, "{istio.io/use-waypoint: egress-waypoint, istio.io/use-waypoint-namespace: istio-egress}"));

        var message = Assert.Single(Egw302(report)).Message;
        Assert.StartsWith("opts out (istio.io/use-waypoint: none) of", message, StringComparison.Ordinal);
        Assert.EndsWith("; set istio.io/use-waypoint(-namespace) (EgressPolicy via-waypoint)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw302_Waypoint_BoundToAnother_NamesBoth()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, Waypoint("team-waypoint", Team), BoundEntry("team-waypoint", Team));

        var finding = Assert.Single(Egw302(report));
        Assert.Equal("metadata.labels[istio.io/use-waypoint]", finding.Path);
        Assert.Equal("bound to team-a/team-waypoint (its label); bind it to istio-egress/egress-waypoint (EgressPolicy via-waypoint)", finding.Message);
    }

    [Fact]
    public void Egw302_Waypoint_NamespaceBindsAnother_PointsAtTheNamespace()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, Waypoint("team-waypoint", Team), Api, Namespace(Team, "{istio.io/use-waypoint: team-waypoint}"));

        var finding = Assert.Single(Egw302(report));
        Assert.Equal("metadata.namespace", finding.Path);
        Assert.StartsWith("bound to team-a/team-waypoint (label of n", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; bind it to istio-egress/egress-waypoint (EgressPolicy via-waypoint)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw302_Waypoint_Missing_NotReadyAwaitingTheGateway()
    {
        var report = Check(ViaWaypoint, BoundEntry());

        var finding = Assert.Single(Egw302(report));
        Assert.StartsWith("WaypointIsNotReady by istio-egress/egress-waypoint", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; istioctl waypoint apply (EgressPolicy via-waypoint)", finding.Message, StringComparison.Ordinal);
        Assert.Equal(ResourceKind.GatewayApiGateway, finding.Awaits?.Kind);
    }

    [Theory]
    [InlineData("istio", "{}", "All", "not a waypoint class", "use class istio-waypoint")]
    [InlineData("istio-waypoint", "{istio.io/waypoint-for: workload}", "All", "UnsupportedTrafficType", "set istio.io/waypoint-for=service")]
    [InlineData("istio-waypoint", "{}", "", "AttachmentDenied", "fix its allowedRoutes")] // unset allowedRoutes: Same
    public void Egw302_Waypoint_BindingDoesNotTake(string gatewayClass, string labels, string from, string why, string fix)
    {
        var report = Check(ViaWaypoint, Waypoint("egress-waypoint", "istio-egress", from, gatewayClass, labels), BoundEntry());

        var finding = Assert.Single(Egw302(report));
        Assert.StartsWith($"{why} by istio-egress/", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith($"; {fix} (EgressPolicy via-waypoint)", finding.Message, StringComparison.Ordinal);
        Assert.Null(finding.Awaits);
    }

    [Theory]
    [InlineData("istio-waypoint", "{istio.io/waypoint-for: all}")]
    [InlineData("istio-waypoint", "{istio.io/waypoint-for: service}")]
    public void Egw302_Waypoint_NearMiss_ServesServiceTraffic(string gatewayClass, string labels)
    {
        var report = Check(ViaWaypoint, Waypoint("egress-waypoint", "istio-egress", "All", gatewayClass, labels), BoundEntry());

        Assert.Empty(Egw302(report));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("status: {addresses: [{type: IPAddress, value: 10.96.0.20}]}", false)]
    public void Egw302_Waypoint_WholeCluster_WithoutAnAddressIsNotReady(string status, bool fires)
    {
        var waypoint = RequiredWaypoint + (status.Length > 0 ? "\n" + status : "");

        var report = Check(RuleSettings.Default with { WholeCluster = true }, ViaWaypoint, waypoint, BoundEntry());

        Assert.Equal(fires, Egw302(report).Any(f => f.Message.StartsWith("WaypointIsNotReady", StringComparison.Ordinal) && f.Message.Contains("check its pods", StringComparison.Ordinal)));
    }

    [Fact]
    public void Egw302_Waypoint_MeshInternalEntry_IsNotEgress()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, Se("api", "api.example.com", extra: "location: MESH_INTERNAL"));

        Assert.Empty(Egw302(report));
    }

    [Fact]
    public void Egw302_Waypoint_VirtualServicesAreNotJudged()
    {
        var report = Check(ViaWaypoint, RequiredWaypoint, BoundEntry(), Vs("direct", "api.example.com", "api.example.com"));

        Assert.Empty(Egw302(report));
    }
}
