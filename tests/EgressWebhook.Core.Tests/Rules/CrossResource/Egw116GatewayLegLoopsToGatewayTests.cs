using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW116: a leg bound to a Gateway routes to that Gateway's own Service.</summary>
public sealed class Egw116GatewayLegLoopsToGatewayTests
{
    private const string GatewayHost = "istio-egressgateway.istio-system.svc.cluster.local";

    private static readonly string Cnn = Se("cnn", "edition.cnn.com");

    [Fact]
    public void Egw116_GatewayLegToItsOwnService_IsAnErrorNamingBoth()
    {
        var report = Check(GatewayService(), Cnn, EgressGateway("edition.cnn.com"), Vs("edition.cnn.com", GatewayHost, gateways: "[egress]"));

        var finding = Assert.Single(Of(report, RuleIds.GatewayLegLoopsToGateway));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("VirtualService", "default", "vs"), finding.Object);
        Assert.Equal("spec.tls[0].route[0].destination.host", finding.Path);
        Assert.Equal("a loop: Service istio-system/istio-egressgateway is Gateway default/egress's own; route to the external host", finding.Message);
        Assert.Equal([new ObjectRef("Gateway", "default", "egress"), new ObjectRef("Service", "istio-system", "istio-egressgateway")], finding.Related);
    }

    [Fact]
    public void Egw116_MeshLegToTheGatewayService_IsTheEgressTask()
    {
        var report = Check(GatewayService(), Cnn, EgressGateway("edition.cnn.com"), Vs("edition.cnn.com", GatewayHost));

        Assert.Empty(Of(report, RuleIds.GatewayLegLoopsToGateway));
    }

    [Theory]
    [InlineData("[mesh]", false)] // the egress task's form: the gateway route is the sidecars' rule only
    [InlineData("[egress]", true)]
    [InlineData("[mesh, egress]", true)]
    public void Egw116_MatchLevelGateways_DecideWhichLegTheRuleIs(string matchGateways, bool fires)
    {
        var vs = $$"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: cnn, namespace: default}
            spec:
              hosts: [edition.cnn.com]
              gateways: [mesh, egress]
              tls:
              - match: [{gateways: {{matchGateways}}, port: 443, sniHosts: [edition.cnn.com]}]
                route:
                - destination:
                    host: {{GatewayHost}}
                    port: {number: 443}
            """;

        var report = Check(GatewayService(), Cnn, EgressGateway("edition.cnn.com"), vs);

        Assert.Equal(fires, Of(report, RuleIds.GatewayLegLoopsToGateway).Count == 1);
    }

    [Fact]
    public void Egw116_AnotherGatewaysService_IsChainingNotALoop()
    {
        var report = Check(GatewayService(), GatewayService(name: "second-egress", selector: "{istio: second-egress}"), Cnn,
            EgressGateway("edition.cnn.com"), Vs("edition.cnn.com", "second-egress.istio-system.svc.cluster.local", gateways: "[egress]"));

        Assert.Empty(Of(report, RuleIds.GatewayLegLoopsToGateway));
    }

    [Fact]
    public void Egw116_ServiceWhosePodsTheGatewayDoesNotSelect_IsNoLoop()
    {
        // the Gateway asks for one more label than the Service's pods carry
        var report = Check(GatewayService(), Cnn, EgressGateway("edition.cnn.com", selector: "{istio: egressgateway, version: v2}"),
            Vs("edition.cnn.com", GatewayHost, gateways: "[egress]"));

        Assert.Empty(Of(report, RuleIds.GatewayLegLoopsToGateway));
    }

    [Fact]
    public void Egw116_NoServiceOfTheHost_JudgesNothing()
    {
        var report = Check(Cnn, EgressGateway("edition.cnn.com"), Vs("edition.cnn.com", GatewayHost, gateways: "[egress]"));

        Assert.Empty(Of(report, RuleIds.GatewayLegLoopsToGateway));
    }

    [Fact]
    public void Egw116_MissingGateway_IsNotJudgedHere()
    {
        // the reference itself is EGW104's
        var report = Check(GatewayService(), Cnn, Vs("edition.cnn.com", GatewayHost, gateways: "[egress]"));

        Assert.Empty(Of(report, RuleIds.GatewayLegLoopsToGateway));
    }

    [Fact]
    public void Egw116_ShortHostResolvesInTheVirtualServicesNamespace()
    {
        var report = Check(GatewayService(), Cnn, EgressGateway("edition.cnn.com", ns: "istio-system"),
            Vs("edition.cnn.com", "istio-egressgateway", ns: "istio-system", gateways: "[egress]"));

        Assert.Single(Of(report, RuleIds.GatewayLegLoopsToGateway));
    }

    [Fact]
    public void Egw116_MirrorToTheOwnService_IsALoopToo()
    {
        var vs = $$"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: api, namespace: default}
            spec:
              hosts: [api.example.com]
              gateways: [egress]
              http:
              - route:
                - destination: {host: api.example.com}
                mirror:
                  host: {{GatewayHost}}
            """;

        var report = Check(GatewayService(), Se("api", "api.example.com", ports: "[{number: 80, name: http, protocol: HTTP}]"), EgressGateway("api.example.com"), vs);

        Assert.Equal("spec.http[0].mirror.host", Assert.Single(Of(report, RuleIds.GatewayLegLoopsToGateway)).Path);
    }

    [Theory]
    [InlineData(true)] // the Gateway arrives last
    [InlineData(false)] // the gateway's Service arrives last
    public void Egw116_TheLastLinkArriving_ReportsTheLeg(bool gatewayLast)
    {
        var leg = Vs("edition.cnn.com", GatewayHost, gateways: "[egress]");
        var gateway = EgressGateway("edition.cnn.com");

        var report = gatewayLast ? CheckChange(gateway, GatewayService(), Cnn, leg) : CheckChange(GatewayService(), gateway, Cnn, leg);

        var finding = Assert.Single(Of(report, RuleIds.GatewayLegLoopsToGateway));
        Assert.Equal(new ObjectRef("VirtualService", "default", "vs"), finding.Object);
    }
}
