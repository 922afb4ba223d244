using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW104: gateway references (server host namespaces, missing Gateways).</summary>
public sealed class Egw104GatewayReferenceTests
{
    [Theory]
    [InlineData("./shop.example.com", "istio-system", false)]
    [InlineData("./shop.example.com", "default", true)]
    [InlineData("default/shop.example.com", "istio-system", true)]
    [InlineData("other/shop.example.com", "istio-system", false)]
    [InlineData("*/shop.example.com", "istio-system", true)]
    [InlineData("shop.example.com", "istio-system", true)]
    [InlineData("*/*.example.com", "istio-system", true)]
    [InlineData("*/example.com", "istio-system", false)]
    public void Egw104_ServerHostNamespaceRules(string serverHost, string gatewayNamespace, bool admitted)
    {
        var gateway = $$$"""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: {{{gatewayNamespace}}}}
            spec:
              selector: {istio: egressgateway}
              servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["{{{serverHost}}}"], tls: {mode: PASSTHROUGH}}]
            """;

        var report = Check(Se("se", "shop.example.com"), gateway, Vs("shop.example.com", "shop.example.com", gateways: $"[{gatewayNamespace}/gw]"));

        Assert.Equal(admitted, Of(report, RuleIds.GatewayReference).Count == 0);
    }

    [Fact]
    public void Egw104_MissingGateway_IsAnErrorOnlyWhenTheViewHasGateways()
    {
        var vs = Vs("api.example.com", "api.example.com", gateways: "[missing]");

        var withGateways = Check(Se("se", "api.example.com"), EgressGateway("api.example.com"), vs);
        var withoutGateways = Check(Se("se", "api.example.com"), vs);

        Assert.Equal(Severity.Error, Assert.Single(Of(withGateways, RuleIds.GatewayReference)).Severity);
        Assert.Equal(Severity.Warning, Assert.Single(Of(withoutGateways, RuleIds.GatewayReference)).Severity);
    }

    [Fact]
    public void Egw104_MissingGateway_IsAnErrorAgainstTheWholeCluster_EvenWithNoGatewayAtAll()
    {
        var objects = ManifestReader.Read(string.Join("\n---\n", Se("se", "api.example.com"), Vs("api.example.com", "api.example.com", gateways: "[missing]")), "default");
        var wholeCluster = RuleSettings.Default with { WholeCluster = true };

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), wholeCluster);

        var finding = Assert.Single(Of(report, RuleIds.GatewayReference));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains("Gateway default/missing does not exist", finding.Message, StringComparison.Ordinal);
    }
}
