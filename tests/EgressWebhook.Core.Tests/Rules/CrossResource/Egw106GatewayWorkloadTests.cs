using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW106: a Gateway's selector must pick a gateway workload, and its server ports must be on it.</summary>
public sealed class Egw106GatewayWorkloadTests
{
    private static string Gateway(int port, string selector = "{istio: egressgateway}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: egress, namespace: default}
        spec:
          selector: {{selector}}
          servers:
          - port: {number: {{port}}, name: tls, protocol: TLS}
            hosts: [api.example.com]
            tls: {mode: PASSTHROUGH}
        """;

    [Fact]
    public void Egw106_SelectorMatchesNoService_WarnsOnTheSelector()
    {
        var report = Check(GatewayService(), Gateway(443, "{istio: egress-gateway}"));

        var finding = Assert.Single(Of(report, RuleIds.GatewayWorkload));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("Gateway", "default", "egress"), finding.Object);
        Assert.Equal("spec.selector", finding.Path);
        Assert.StartsWith("selector istio=egress-gateway matches no gateway Service", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; use the pods' labels", finding.Message, StringComparison.Ordinal);
        Assert.Equal(ResourceKind.Service, finding.Awaits?.Kind);
    }

    [Fact]
    public void Egw106_SelectorLabelTheServiceLacks_MatchesNoService()
    {
        // every selector label must be in the Service's selector: one more label than the Service has is a miss
        var report = Check(GatewayService(), Gateway(443, "{istio: egressgateway, app: istio-egressgateway, version: v2}"));

        var finding = Assert.Single(Of(report, RuleIds.GatewayWorkload));
        Assert.Equal("spec.selector", finding.Path);
        Assert.Contains("app=istio-egressgateway,istio=egressgateway,version=v2", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw106_SelectorContainedInTheServiceSelector_IsTheWorkload()
    {
        var report = Check(GatewayService(), Gateway(443, "{app: istio-egressgateway}"));

        Assert.Empty(Of(report, RuleIds.GatewayWorkload));
    }

    [Fact]
    public void Egw106_NoServiceInTheInput_JudgesNothing()
    {
        // the snapshot cannot say where the pods are: the selector and the ports are not judged
        var report = Check(Gateway(9443, "{istio: nowhere}"));

        Assert.Empty(Of(report, RuleIds.GatewayWorkload));
    }

    [Fact]
    public void Egw106_ServicesOfOtherWorkloadsOnly_StillJudgesTheSelector()
    {
        var report = Check(GatewayService(name: "web", ns: "shop", selector: "{app: web}", ports: "[{name: http, port: 80}]"), Gateway(443));

        Assert.Equal("spec.selector", Assert.Single(Of(report, RuleIds.GatewayWorkload)).Path);
    }

    [Fact]
    public void Egw106_EmptySelector_IsNotJudged()
    {
        var report = Check(GatewayService(), Gateway(9443, "{}"));

        Assert.Empty(Of(report, RuleIds.GatewayWorkload));
    }

    [Theory]
    [InlineData(443)] // a Service port: Istio binds the server to its targetPort
    [InlineData(8443)] // a targetPort (Istio IST0162)
    [InlineData(80)]
    [InlineData(8080)]
    public void Egw106_ServerPortOnTheWorkload_IsSilent(int port)
    {
        var report = Check(GatewayService(), Gateway(port));

        Assert.Empty(Of(report, RuleIds.GatewayWorkload));
    }

    [Fact]
    public void Egw106_ServerPortNotOnTheWorkload_WarnsOnThePortAndListsTheServicePorts()
    {
        var report = Check(GatewayService(), Gateway(9443));

        var finding = Assert.Single(Of(report, RuleIds.GatewayWorkload));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("Gateway", "default", "egress"), finding.Object);
        Assert.Equal("spec.servers[0].port.number", finding.Path);
        Assert.Equal("port 9443 is not exposed by Service istio-system/istio-egressgateway (ports: 80→8080, 443→8443); use one of them", finding.Message);
        Assert.Equal([new ObjectRef("Service", "istio-system", "istio-egressgateway")], finding.Related);
        Assert.Null(finding.Awaits);
    }

    [Fact]
    public void Egw106_ServicePortWithoutTargetPort_IsListedByItsNumber()
    {
        var report = Check(GatewayService(ports: "[{name: tls, port: 443}]"), Gateway(8443));

        Assert.Contains("(ports: 443)", Assert.Single(Of(report, RuleIds.GatewayWorkload)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"08443\"")] // not the number 8443 as Istio compares it: the text
    [InlineData("https")] // a named targetPort
    public void Egw106_TargetPortNotWrittenAsTheNumber_DoesNotExposeIt(string targetPort)
    {
        var report = Check(GatewayService(ports: $"[{{name: tls, port: 443, targetPort: {targetPort}}}]"), Gateway(8443));

        Assert.Equal("spec.servers[0].port.number", Assert.Single(Of(report, RuleIds.GatewayWorkload)).Path);
    }

    [Fact]
    public void Egw106_MoreServersOffTheWorkloadThanTheCap_ListsTheFirstAndCountsTheRestUnderTheServers()
    {
        var servers = string.Concat(Enumerable.Range(0, 25).Select(i => $$"""

              - port: {number: {{9000 + i}}, name: tls-{{i}}, protocol: TLS}
                hosts: [h{{i}}.example.com]
                tls: {mode: PASSTHROUGH}
            """));

        var findings = Of(Check(GatewayService(), Gateway(443) + servers), RuleIds.GatewayWorkload);

        Assert.Equal(21, findings.Count);
        var summary = Assert.Single(findings, f => f.Path == "spec.servers");
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"spec.servers[{i}].port.number").Order(StringComparer.Ordinal),
            findings.Where(f => f != summary).Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal("port 9000 is not exposed by Service istio-system/istio-egressgateway (ports: 80→8080, 443→8443); use one of them",
            Assert.Single(findings, f => f.Path == "spec.servers[1].port.number").Message);
        Assert.Equal(Severity.Warning, summary.Severity);
        Assert.Equal("… and 5 more EGW106 warnings like the 20 listed in spec.servers; fix those, then re-check", summary.Message);
    }

    [Fact]
    public void Egw106_PortOnAnySelectingService_IsOnTheWorkload()
    {
        // two Services select the gateway pods; the port of the second is enough
        var report = Check(GatewayService(), GatewayService(name: "egress-extra", ports: "[{name: tls, port: 9443}]"), Gateway(9443));

        Assert.Empty(Of(report, RuleIds.GatewayWorkload));
    }

    [Fact]
    public void Egw106_OnlyTheServerOffTheWorkload_IsReported()
    {
        var gateway = Gateway(443) + """

              - port: {number: 15443, name: tls-2, protocol: TLS}
                hosts: [other.example.com]
                tls: {mode: PASSTHROUGH}
            """;

        var report = Check(GatewayService(), gateway);

        Assert.Equal("spec.servers[1].port.number", Assert.Single(Of(report, RuleIds.GatewayWorkload)).Path);
    }

    [Fact]
    public void Egw106_ServiceUpdateDroppingThePort_IsReportedOnTheGateway()
    {
        var before = GatewayService(ports: "[{name: https, port: 443, targetPort: 8443}, {name: tls-alt, port: 9443}]");

        var report = CheckChange(GatewayService(ports: "[{name: https, port: 443, targetPort: 8443}]"), before, Gateway(9443));
        var kept = CheckChange(GatewayService(ports: "[{name: tls-alt, port: 9443}]"), before, Gateway(9443));

        var finding = Assert.Single(Of(report, RuleIds.GatewayWorkload));
        Assert.Equal(new ObjectRef("Gateway", "default", "egress"), finding.Object);
        Assert.Equal("spec.servers[0].port.number", finding.Path);
        Assert.Empty(Of(kept, RuleIds.GatewayWorkload));
    }
}
