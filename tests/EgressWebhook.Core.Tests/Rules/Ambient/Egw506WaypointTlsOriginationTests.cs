using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW506: a waypoint-bound entry maps plain HTTP to <c>targetPort: 443</c>, and no DestinationRule found from the
/// waypoint originates TLS on that port.</summary>
public sealed class Egw506WaypointTlsOriginationTests
{
    private const string HttpTo443 = "[{number: 80, name: http, protocol: HTTP, targetPort: 443}]";

    /// <summary>A DestinationRule for httpbin.org; <paramref name="policy"/> is its <c>trafficPolicy</c> (YAML lines at the
    /// policy's own indentation).</summary>
    private static string Dr(string policy, string ns = "istio-egress", string host = "httpbin.org", string more = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: httpbin-tls, namespace: {{ns}}}
        spec:
          host: "{{host}}"
          trafficPolicy:
        {{string.Join('\n', policy.Split('\n').Select(l => "    " + l))}}
        {{more}}
        """;

    private const string Simple = "tls: {mode: SIMPLE, caCertificates: /etc/ssl/certs/ca-certificates.crt}";

    [Fact]
    public void Egw506_TlsOriginationWithItsDestinationRule_IsTheAmbientTask()
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443), Dr(Simple)]);

        Assert.Empty(Of(report, RuleIds.WaypointTlsOrigination));
    }

    [Fact]
    public void Egw506_NoDestinationRule_IsAnErrorAwaitingOne()
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443)]);

        var finding = Assert.Single(Of(report, RuleIds.WaypointTlsOrigination));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), finding.Object);
        Assert.Equal("spec.ports[0].targetPort", finding.Path);
        Assert.Equal("port 80 sends plain HTTP to targetPort 443: no DestinationRule for httpbin.org has tls SIMPLE; add one", finding.Message);
        Assert.Equal(ResourceKind.DestinationRule, finding.Awaits?.Kind);
    }

    [Theory]
    [InlineData("tls: {mode: DISABLE}")]
    [InlineData("tls: {mode: ISTIO_MUTUAL}")]
    [InlineData("loadBalancer: {simple: ROUND_ROBIN}")] // no tls block: DISABLE
    [InlineData("portLevelSettings:\n- port: {number: 8080}\n  tls: {mode: SIMPLE}")] // another port
    public void Egw506_DestinationRuleThatDoesNotOriginate_IsAContradiction(string policy)
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443), Dr(policy)]);

        var finding = Assert.Single(Of(report, RuleIds.WaypointTlsOrigination));
        Assert.Null(finding.Awaits);
        Assert.Equal([new ObjectRef("DestinationRule", "istio-egress", "httpbin-tls")], finding.Related);
    }

    [Theory]
    [InlineData("tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}")]
    [InlineData("portLevelSettings:\n- port: {number: 80}\n  tls: {mode: SIMPLE}")]
    [InlineData("tls: {mode: DISABLE}\nportLevelSettings:\n- port: {number: 80}\n  tls: {mode: SIMPLE}")] // the port's setting wins
    public void Egw506_DestinationRuleThatOriginatesOnThePort_IsSilent(string policy)
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443), Dr(policy)]);

        Assert.Empty(Of(report, RuleIds.WaypointTlsOrigination));
    }

    [Fact]
    public void Egw506_PortLevelDisableOverridesTopLevelSimple()
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443), Dr("tls: {mode: SIMPLE}\nportLevelSettings:\n- port: {number: 80}\n  tls: {mode: DISABLE}")]);

        Assert.Single(Of(report, RuleIds.WaypointTlsOrigination));
    }

    [Fact]
    public void Egw506_SubsetTls_IsNotThePortsDefault()
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443),
            Dr("loadBalancer: {simple: ROUND_ROBIN}", more: "  subsets:\n  - name: tls\n    trafficPolicy: {tls: {mode: SIMPLE}}")]);

        Assert.Single(Of(report, RuleIds.WaypointTlsOrigination));
    }

    [Theory]
    [InlineData("istio-system", false)] // the root namespace is on the waypoint's lookup path
    [InlineData("team-a", true)] // off the path
    public void Egw506_DestinationRuleIsLookedUpFromTheWaypoint(string drNamespace, bool fires)
    {
        var report = Check([.. EgressSetup(), Entry(ports: HttpTo443), Dr(Simple, ns: drNamespace)]);

        Assert.Equal(fires, Of(report, RuleIds.WaypointTlsOrigination).Count == 1);
    }

    [Theory]
    [InlineData("[{number: 80, name: http, protocol: HTTP, targetPort: 8080}]")] // not to 443
    [InlineData("[{number: 80, name: http, protocol: HTTP}]")]
    [InlineData("[{number: 443, name: http, protocol: HTTP, targetPort: 443}]")] // the port is 443 itself
    [InlineData("[{number: 80, name: tls, protocol: TLS, targetPort: 443}]")] // the client's TLS already
    [InlineData("[{number: 80, name: https, protocol: HTTPS, targetPort: 443}]")]
    [InlineData("[{number: 80, name: tcp, protocol: TCP, targetPort: 443}]")] // not HTTP: nothing to originate from
    public void Egw506_PortsThatNeedNoOrigination_AreSilent(string ports)
    {
        var report = Check([.. EgressSetup(), Entry(ports: ports)]);

        Assert.Empty(Of(report, RuleIds.WaypointTlsOrigination));
    }

    [Fact]
    public void Egw506_SecondPort_IsReportedAtItsIndex()
    {
        var report = Check([.. EgressSetup(), Entry(ports: "[{number: 8080, name: http-alt, protocol: HTTP}, {number: 80, name: http, protocol: HTTP, targetPort: 443}]")]);

        Assert.Equal("spec.ports[1].targetPort", Assert.Single(Of(report, RuleIds.WaypointTlsOrigination)).Path);
    }

    [Fact]
    public void Egw506_UnboundEntry_IsNotJudged()
    {
        var report = Check(AmbientNamespace("default"), AmbientNamespace("istio-egress"), Waypoint(), Entry(ports: HttpTo443));

        Assert.Empty(Of(report, RuleIds.WaypointTlsOrigination));
    }

    [Fact]
    public void Egw506_MissingWaypoint_IsLeftToEgw501()
    {
        var report = Check(AmbientNamespace("istio-egress", $", {UseWaypoint}: waypoint"), Entry(ports: HttpTo443));

        Assert.Empty(Of(report, RuleIds.WaypointTlsOrigination));
        Assert.Single(Of(report, RuleIds.WaypointBinding));
    }
}
