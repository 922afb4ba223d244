using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW109: two Gateways on one workload with the same server (port, host string, bind).</summary>
public sealed class Egw109ConflictingGatewaysTests
{
    /// <summary>A Gateway with one TLS server; <paramref name="hosts"/> is a YAML list, <paramref name="serverExtra"/> more
    /// server fields (<c>bind</c>).</summary>
    private static string Gw(string name, string selector = "{istio: egressgateway}", int port = 443, string hosts = "[edition.cnn.com]",
        string serverExtra = "", string labels = "{}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: {{name}}, namespace: default, labels: {{labels}}}
        spec:
          selector: {{selector}}
          servers:
          - port: {number: {{port}}, name: tls, protocol: TLS}
            hosts: {{hosts}}
            tls: {mode: PASSTHROUGH}
        {{serverExtra}}
        """;

    [Fact]
    public void Egw109_SameServerOnTwoGateways_WarnsOnEachNamingTheOther()
    {
        var report = Check(Gw("cnn-egress"), Gw("news-egress"));

        var findings = Of(report, RuleIds.ConflictingGateways);
        Assert.Equal(2, findings.Count);
        var news = Assert.Single(findings, f => f.Object == new ObjectRef("Gateway", "default", "news-egress"));
        Assert.Equal(Severity.Warning, news.Severity);
        Assert.Equal("spec.servers[0].hosts[0]", news.Path);
        Assert.Equal("443/edition.cnn.com is also served by Gateway default/cnn-egress on the same workload; merge them", news.Message);
        Assert.Equal([new ObjectRef("Gateway", "default", "cnn-egress")], news.Related);
        Assert.Contains(findings, f => f.Object.Name == "cnn-egress" && f.Message.Contains("Gateway default/news-egress", StringComparison.Ordinal));
    }

    [Fact]
    public void Egw109_GeneratedGateway_IsAnError()
    {
        var report = Check(Gw("cnn-egress"), Gw("generated", labels: "{app.kubernetes.io/managed-by: egress-webhook}"));

        var findings = Of(report, RuleIds.ConflictingGateways);
        Assert.Equal(Severity.Error, Assert.Single(findings, f => f.Object.Name == "generated").Severity);
        Assert.Equal(Severity.Warning, Assert.Single(findings, f => f.Object.Name == "cnn-egress").Severity);
    }

    [Theory]
    [InlineData("{istio: egressgateway}", true)] // equal selectors
    [InlineData("{istio: egressgateway, app: istio-egressgateway}", true)] // one contains the other: the narrower pods are picked by both
    [InlineData("{istio: egressgateway-2}", false)] // another workload
    [InlineData("{app: istio-egressgateway}", false)] // neither contains the other
    [InlineData("{}", false)] // an empty selector selects nothing here
    public void Egw109_GatewaysMustSelectTheSameWorkload(string selector, bool fires)
    {
        var report = Check(Gw("cnn-egress"), Gw("news-egress", selector: selector));

        Assert.Equal(fires, Of(report, RuleIds.ConflictingGateways).Any(f => f.Object.Name == "news-egress"));
        Assert.Equal(fires, Of(report, RuleIds.ConflictingGateways).Any(f => f.Object.Name == "cnn-egress"));
    }

    [Theory]
    [InlineData("", "", true)]
    [InlineData("    bind: 10.0.0.1", "    bind: 10.0.0.1", true)]
    [InlineData("    bind: 10.0.0.1", "    bind: 10.0.0.2", false)]
    [InlineData("    bind: 10.0.0.1", "", false)] // an unset bind is another bind
    public void Egw109_BindMustBeTheSame(string bindA, string bindB, bool fires)
    {
        var report = Check(Gw("cnn-egress", serverExtra: bindA), Gw("news-egress", serverExtra: bindB));

        Assert.Equal(fires, Of(report, RuleIds.ConflictingGateways).Count > 0);
    }

    [Fact]
    public void Egw109_OtherPort_IsNoConflict()
    {
        var report = Check(Gw("cnn-egress"), Gw("news-egress", port: 8443));

        Assert.Empty(Of(report, RuleIds.ConflictingGateways));
    }

    [Theory]
    [InlineData("[edition.cnn.com]", true)]
    [InlineData("[\"./edition.cnn.com\"]", false)] // the host strings differ, though the DNS names do not
    [InlineData("[\"*.cnn.com\"]", false)] // overlapping is not the same host
    [InlineData("[www.cnn.com]", false)]
    public void Egw109_HostStringMustBeTheSame(string hosts, bool fires)
    {
        var report = Check(Gw("cnn-egress"), Gw("news-egress", hosts: hosts));

        Assert.Equal(fires, Of(report, RuleIds.ConflictingGateways).Count > 0);
    }

    [Fact]
    public void Egw109_SecondHostOfTheServer_IsReportedAtItsIndex()
    {
        var report = Check(Gw("cnn-egress"), Gw("news-egress", hosts: "[www.cnn.com, edition.cnn.com]"));

        var finding = Assert.Single(Of(report, RuleIds.ConflictingGateways), f => f.Object.Name == "news-egress");
        Assert.Equal("spec.servers[0].hosts[1]", finding.Path);
    }

    [Fact]
    public void Egw109_ServerWithoutAPortNumber_IsNotCompared()
    {
        var noPort = Gw("news-egress").Replace("- port: {number: 443, name: tls, protocol: TLS}", "- port: {name: tls, protocol: TLS}", StringComparison.Ordinal);

        var report = Check(Gw("cnn-egress"), noPort);

        Assert.Empty(Of(report, RuleIds.ConflictingGateways));
    }

    [Fact]
    public void Egw109_CreatingTheSecond_ReportsBoth()
    {
        var report = CheckChange(Gw("news-egress"), Gw("cnn-egress"));

        Assert.Equal(["cnn-egress", "news-egress"], Of(report, RuleIds.ConflictingGateways).Select(f => f.Object.Name).Order());
    }
}
