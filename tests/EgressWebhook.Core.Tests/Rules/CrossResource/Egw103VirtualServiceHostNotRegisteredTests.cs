using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW103: a VirtualService host nothing registers (host intersection, egress gateways only).</summary>
public sealed class Egw103VirtualServiceHostNotRegisteredTests
{
    [Theory]
    [InlineData("*.wikipedia.org", "www.wikipedia.org", null)]
    [InlineData("api.example.com", "www.example.com", Severity.Error)]
    [InlineData("*.example.org", "www.example.com", Severity.Warning)]
    public void Egw103_HostIntersection_AndSeverityUnderRegistryOnly(string vsHost, string seHost, Severity? expected)
    {
        var report = Check(RegistryOnly, Se("se", seHost), Vs(vsHost, seHost));

        var findings = Of(report, RuleIds.VirtualServiceHostNotRegistered);
        Assert.Equal(expected, findings.Count == 0 ? null : findings.Single(f => f.Path == "spec.hosts[0]").Severity);
    }

    [Fact]
    public void Egw103_GatewayBound_OnlyEgressGatewaysAreJudged()
    {
        const string ingress = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: public, namespace: default}
            spec:
              selector: {istio: ingressgateway}
              servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: [shop.example.com], tls: {mode: PASSTHROUGH}}]
            """;
        var inCluster = Vs("shop.example.com", "shop.apps.svc.cluster.local", gateways: "[public]");

        var ingressReport = Check(RegistryOnly, ingress, inCluster);
        var egressReport = Check(RegistryOnly, EgressGateway("shop.example.com"), Vs("shop.example.com", "shop.apps.svc.cluster.local", gateways: "[egress]"));

        Assert.Empty(Of(ingressReport, RuleIds.VirtualServiceHostNotRegistered));
        var finding = Assert.Single(Of(egressReport, RuleIds.VirtualServiceHostNotRegistered));
        Assert.Contains(new ObjectRef("Gateway", "default", "egress"), finding.Related);
    }
}
