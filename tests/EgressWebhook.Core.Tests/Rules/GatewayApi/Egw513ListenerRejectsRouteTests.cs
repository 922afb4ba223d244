using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.GatewayApi.GatewayApiFixtures;

namespace EgressWebhook.Core.Tests.Rules.GatewayApi;

/// <summary>EGW513: the second leg must attach to a listener of its Gateway parent.</summary>
public sealed class Egw513ListenerRejectsRouteTests
{
    private const string HttpsTerminate = "{name: tls, hostname: edition.cnn.com, port: 443, protocol: HTTPS, tls: {mode: Terminate}, allowedRoutes: {namespaces: {from: Same}}}";

    private static List<Finding> Egw513(EgressReport report) => Of(report, RuleIds.ListenerRejectsRoute);

    [Fact]
    public void Egw513_TlsRouteOnATerminatingListener_IsAnErrorOnTheParent()
    {
        var report = Check(Se(), Gateway($"[{HttpsTerminate}]"), SecondRoute());

        var finding = Assert.Single(Egw513(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("GatewayApiRoute", "default", "forward-cnn-from-egress-gateway"), finding.Object);
        Assert.Equal("spec.parentRefs[0]", finding.Path);
        Assert.Equal("cnn-egress-gateway: listener tls (HTTPS Terminate) cannot carry a TLSRoute; use a TLS listener with tls.mode Passthrough", finding.Message);
        Assert.Contains(finding.Related, r => r.Namespace == "default" && r.Name == "cnn-egress-gateway");
    }

    [Fact]
    public void Egw513_NearMiss_PassthroughListener()
    {
        var report = Check(Se(), Gateway(), SecondRoute());

        Assert.Empty(Egw513(report));
    }

    [Fact]
    public void Egw513_GatewayMissing_ForAnEgressRoute_AwaitsIt()
    {
        var report = Check(Se(), SecondRoute());

        var finding = Assert.Single(Egw513(report));
        Assert.Equal("spec.parentRefs[0].name", finding.Path);
        Assert.Equal("no Gateway default/cnn-egress-gateway: the route is attached nowhere; create it or fix the name", finding.Message);
        Assert.Equal(new ObjectKey(ResourceKind.GatewayApiGateway, "default", "cnn-egress-gateway"), finding.Awaits?.Key);
    }

    [Fact]
    public void Egw513_NearMiss_GatewayMissing_RouteWithoutHostnameBackend()
    {
        // an ingress route or another controller's: not egress
        var report = Check(SecondRoute(backends: "[{name: reviews, port: 9080}]"));

        Assert.Empty(Egw513(report));
    }

    [Fact]
    public void Egw513_NearMiss_WaypointParentIsNotJudged()
    {
        var report = Check(Se(), Gateway("[{name: mesh, port: 15008, protocol: HBONE}]", gatewayClass: "istio-waypoint"), SecondRoute());

        Assert.Empty(Egw513(report));
    }

    [Fact]
    public void Egw513_NearMiss_ServiceEntryParentIsEgw511s()
    {
        var report = Check(Se(), Gateway($"[{HttpsTerminate}]"), FirstRoute());

        Assert.Empty(Egw513(report));
    }

    [Theory]
    [InlineData("{name: cnn-egress-gateway, sectionName: https}", "spec.parentRefs[0].sectionName", "has no listener named https;")]
    [InlineData("{name: cnn-egress-gateway, port: 8443}", "spec.parentRefs[0].port", "has no listener on port 8443;")]
    [InlineData("{name: cnn-egress-gateway, sectionName: tls, port: 8443}", "spec.parentRefs[0].sectionName", "has no listener named tls on port 8443;")]
    public void Egw513_NoListenerSelected_NamesWhatWasAskedFor(string parent, string path, string message)
    {
        var report = Check(Se(), Gateway(), SecondRoute($"[{parent}]"));

        var finding = Assert.Single(Egw513(report));
        Assert.Equal(path, finding.Path);
        Assert.StartsWith("Gateway default/cnn-egress-gateway " + message, finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; name one of its listeners", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", false)] // one of the two admits
    [InlineData(", sectionName: tls", false)]
    [InlineData(", port: 443", false)]
    [InlineData(", sectionName: http", true)] // only the HTTP one
    [InlineData(", port: 80", true)]
    public void Egw513_SectionNameAndPort_PickTheListeners(string select, bool fires)
    {
        var gateway = Gateway($"[{{name: http, port: 80, protocol: HTTP}}, {TlsPassthrough}]");

        var report = Check(Se(), gateway, SecondRoute($"[{{name: cnn-egress-gateway{select}}}]"));

        var findings = Egw513(report);
        Assert.Equal(fires, findings.Count == 1);
        Assert.All(findings, f => Assert.Contains("listener http (HTTP) cannot carry a TLSRoute", f.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{from: Same}", false, "Same")]
    [InlineData("null", false, "Same (unset)")]
    [InlineData("{from: All}", true, "")]
    [InlineData("{from: Selector, selector: {matchLabels: {egress: allowed}}}", true, "")]
    [InlineData("{from: Selector, selector: {matchLabels: {egress: other}}}", false, "a Selector")]
    public void Egw513_AllowedRoutesNamespaces_AdmitTheRoutesNamespace(string namespaces, bool admits, string described)
    {
        var listener = $"{{name: tls, hostname: edition.cnn.com, port: 443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {namespaces}}}}}";

        var report = Check(Se(), Namespace("shop", "{egress: allowed}"), Gateway($"[{listener}]"),
            SecondRoute("[{name: cnn-egress-gateway, namespace: default}]", ns: "shop"));

        var findings = Egw513(report);
        Assert.Equal(admits, findings.Count == 0);
        Assert.All(findings, f => Assert.Equal($"cnn-egress-gateway: listener tls admits {described} namespaces, not shop; set allowedRoutes.namespaces.from", f.Message));
    }

    [Theory]
    [InlineData("[edition.cnn.com]", false)]
    [InlineData("[\"*.cnn.com\"]", false)] // a wildcard route hostname intersects
    [InlineData("[]", false)] // no hostnames: any
    [InlineData("[www.cnn.com]", true)]
    [InlineData("[www.cnn.com, edition.cnn.com]", false)]
    public void Egw513_ListenerHostname_MustIntersectTheRoutes(string hostnames, bool fires)
    {
        var report = Check(Se(), Gateway(), SecondRoute(hostnames: hostnames));

        var findings = Egw513(report);
        Assert.Equal(fires, findings.Count == 1);
        Assert.All(findings, f => Assert.Contains("listener tls hostname edition.cnn.com matches", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Egw513_HostnameNamingNamespaces_StillGetsTheHostnameFix()
    {
        // the fix comes with the reason, not from the reason's words
        var listener = "{name: tls, hostname: api.namespaces.example.com, port: 443, protocol: TLS, tls: {mode: Passthrough}}";
        var report = Check(Se(), Gateway($"[{listener}]"), SecondRoute(hostnames: "[www.cnn.com]"));

        Assert.EndsWith("matches no route hostname; align the hostnames", Assert.Single(Egw513(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw513_HostnameMismatch_FixAlignsListenerAndRouteHostnames()
    {
        var report = Check(Se(), Gateway(), SecondRoute(hostnames: "[www.cnn.com]"));

        var finding = Assert.Single(Egw513(report));
        Assert.Equal("cnn-egress-gateway: listener tls hostname edition.cnn.com matches no route hostname; align the hostnames", finding.Message);
    }

    [Theory]
    [InlineData("HTTPRoute", "{name: http, port: 80, protocol: HTTP}", false)]
    [InlineData("HTTPRoute", "{name: https, port: 443, protocol: HTTPS, tls: {mode: Terminate}}", false)]
    [InlineData("HTTPRoute", "{name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}", true)]
    [InlineData("TCPRoute", "{name: tcp, port: 9000, protocol: TCP}", false)]
    [InlineData("TCPRoute", "{name: tls, port: 443, protocol: TLS, tls: {mode: Terminate}}", false)]
    [InlineData("TCPRoute", "{name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}", true)]
    [InlineData("TLSRoute", "{name: tls, port: 443, protocol: TLS}", true)] // unset mode is Terminate
    public void Egw513_ListenerProtocol_CarriesTheRouteKind(string kind, string listener, bool fires)
    {
        var report = Check(Se(), Gateway($"[{listener}]"), SecondRoute(kind: kind));

        var findings = Egw513(report);
        Assert.Equal(fires, findings.Count == 1);
        Assert.All(findings, f => Assert.Contains($"cannot carry a {kind}", f.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[{kind: HTTPRoute}]", true)]
    [InlineData("[{kind: TLSRoute}]", false)]
    public void Egw513_AllowedRoutesKinds_LeavesTheKindOut_FixAddsIt(string kinds, bool fires)
    {
        var listener = $"{{name: tls, port: 443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{kinds: {kinds}}}}}";
        var report = Check(Se(), Gateway($"[{listener}]"), SecondRoute(kind: "TLSRoute"));

        var findings = Egw513(report);
        Assert.Equal(fires, findings.Count == 1);
        Assert.All(findings, f => Assert.Equal("cnn-egress-gateway: listener tls allows only HTTPRoute; add TLSRoute to allowedRoutes.kinds", f.Message));
    }

    [Fact]
    public void Egw513_HttpRouteOnTheWrongProtocol_FixNamesTheRoutesProtocol()
    {
        var report = Check(Se(), Gateway(), SecondRoute(kind: "HTTPRoute"));

        Assert.EndsWith("; use a listener of the route's protocol", Assert.Single(Egw513(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw513_EveryListenerRefuses_TheFirstReasonIsReported()
    {
        var report = Check(Se(), Gateway($"[{HttpsTerminate}, {{name: plain, port: 80, protocol: HTTP}}]"), SecondRoute());

        Assert.Contains("listener tls (HTTPS Terminate)", Assert.Single(Egw513(report)).Message, StringComparison.Ordinal);
    }
}
