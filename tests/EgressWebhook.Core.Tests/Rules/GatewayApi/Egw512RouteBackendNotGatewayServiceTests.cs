using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.GatewayApi.GatewayApiFixtures;

namespace EgressWebhook.Core.Tests.Rules.GatewayApi;

/// <summary>EGW512: the first leg's Service backend must be a Service, or the <c>&lt;gateway&gt;-istio</c> Service of a
/// Gateway (its ports the listener ports), with that port.</summary>
public sealed class Egw512RouteBackendNotGatewayServiceTests
{
    private static List<Finding> Egw512(EgressReport report) => Of(report, RuleIds.RouteBackendNotGatewayService);

    [Fact]
    public void Egw512_PortNotAListenerPort_IsAnErrorOnThePort()
    {
        var report = Check(Se(), Gateway(), FirstRoute(backends: "[{name: cnn-egress-gateway-istio, port: 8443}]"));

        var finding = Assert.Single(Egw512(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("GatewayApiRoute", "default", "direct-cnn-to-egress-gateway"), finding.Object);
        Assert.Equal("spec.rules[0].backendRefs[0].port", finding.Path);
        Assert.Equal("port 8443 is not a port of cnn-egress-gateway-istio (Gateway default/cnn-egress-gateway listens on 443); use one", finding.Message);
        Assert.Contains(finding.Related, r => r.Namespace == "default" && r.Name == "cnn-egress-gateway");
        Assert.Null(finding.Awaits);
    }

    [Theory]
    [InlineData("[{name: cnn-egress-gateway-istio, port: 443}]")]
    [InlineData("[{name: cnn-egress-gateway-istio}]")] // no port: nothing to compare
    [InlineData("[{name: cnn-egress-gateway-istio, port: 80}]")] // the second listener
    public void Egw512_NearMiss_ListenerPort(string backends)
    {
        var report = Check(Se(), Gateway($"[{TlsPassthrough}, {{name: http, port: 80, protocol: HTTP}}]"), FirstRoute(backends: backends));

        Assert.Empty(Egw512(report));
    }

    [Fact]
    public void Egw512_NearMiss_RouteWithoutServiceEntryParent_IsNotTheFirstLeg()
    {
        var report = Check(Se(), Gateway(), Route("other", GatewayParent, "[{name: nothing, port: 1}]"), Service("unrelated"));

        Assert.Empty(Egw512(report));
    }

    [Fact]
    public void Egw512_ServiceOfTheSnapshot_IsReadAsItIs()
    {
        var report = Check(Se(), Service("egress-svc", ports: "[{name: tls, port: 443, targetPort: 8443}]"),
            FirstRoute(backends: "[{name: egress-svc, port: 8443}]"));

        var finding = Assert.Single(Egw512(report));
        Assert.Equal("spec.rules[0].backendRefs[0].port", finding.Path);
        Assert.Equal("port 8443 is not a port of Service default/egress-svc (443); use one of them", finding.Message);
        Assert.Equal([new ObjectRef("Service", "default", "egress-svc")], finding.Related);
    }

    [Fact]
    public void Egw512_NearMiss_ServiceOfTheSnapshotWithThePort()
    {
        var report = Check(Se(), Service("egress-svc"), FirstRoute(backends: "[{name: egress-svc, port: 443}]"));

        Assert.Empty(Egw512(report));
    }

    [Fact]
    public void Egw512_ServiceOfTheSnapshotWins_OverTheGatewaysListeners()
    {
        var report = Check(Se(), Gateway(), Service("cnn-egress-gateway-istio", ports: "[{name: tls, port: 8443}]"),
            FirstRoute(backends: "[{name: cnn-egress-gateway-istio, port: 8443}]"));

        Assert.Empty(Egw512(report));
    }

    [Fact]
    public void Egw512_GatewayServiceOfNoGateway_IsAnErrorAwaitingTheService()
    {
        var report = Check(Se(), FirstRoute());

        var finding = Assert.Single(Egw512(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("spec.rules[0].backendRefs[0].name", finding.Path);
        Assert.Equal("backend default/cnn-egress-gateway-istio is no Service and no Gateway's <name>-istio Service; send to <gateway>-istio", finding.Message);
        Assert.Equal(ResourceKind.Service, finding.Awaits?.Kind);
    }

    [Fact]
    public void Egw512_PlainBackendMissing_WarningWhenTheInputHoldsNoService()
    {
        var report = Check(Se(), FirstRoute(backends: "[{name: egress-svc, port: 443}]"));

        Assert.Equal(Severity.Warning, Assert.Single(Egw512(report)).Severity);
    }

    [Fact]
    public void Egw512_PlainBackendMissing_ErrorWhenTheInputHoldsServices()
    {
        var report = Check(Se(), Service("unrelated"), FirstRoute(backends: "[{name: egress-svc, port: 443}]"));

        Assert.Equal(Severity.Error, Assert.Single(Egw512(report)).Severity);
    }

    [Fact]
    public void Egw512_PlainBackendMissing_ErrorForTheWholeCluster()
    {
        var report = Check(RuleSettings.Default with { WholeCluster = true }, Se(), FirstRoute(backends: "[{name: egress-svc, port: 443}]"));

        Assert.Equal(Severity.Error, Assert.Single(Egw512(report)).Severity);
    }

    [Theory]
    [InlineData("egress", "egress", false)]
    [InlineData("egress", "", true)] // unset: the route's namespace, where there is no Gateway
    public void Egw512_BackendNamespace(string gatewayNamespace, string backendNamespace, bool fires)
    {
        var ns = backendNamespace.Length > 0 ? $", namespace: {backendNamespace}" : "";

        var report = Check(Se(), Gateway(ns: gatewayNamespace), FirstRoute(backends: $"[{{name: cnn-egress-gateway-istio, port: 443{ns}}}]"));

        Assert.Equal(fires, Egw512(report).Count == 1);
    }

    [Theory]
    [InlineData("[{kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 443}]")]
    [InlineData("[{kind: Service, group: example.com, name: nothing, port: 443}]")]
    public void Egw512_NearMiss_NotAServiceBackend(string backends)
    {
        var report = Check(Se(), FirstRoute(backends: backends));

        Assert.Empty(Egw512(report));
    }

    [Fact]
    public void Egw512_SecondBackendOfSecondRule_PointsAtIt()
    {
        var route = """
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TLSRoute
            metadata: {name: direct, namespace: default}
            spec:
              parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
              rules:
              - backendRefs: [{name: cnn-egress-gateway-istio, port: 443}]
              - backendRefs: [{name: cnn-egress-gateway-istio, port: 443}, {name: cnn-egress-gateway-istio, port: 9443}]
            """;

        var report = Check(Se(), Gateway(), route);

        Assert.Equal("spec.rules[1].backendRefs[1].port", Assert.Single(Egw512(report)).Path);
    }
}
