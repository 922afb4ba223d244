using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW108: two VirtualServices bound to <c>mesh</c> for one host, seen by a common namespace.</summary>
public sealed class Egw108DuplicateMeshVirtualServiceTests
{
    /// <summary>A VirtualService with one http route; <paramref name="extra"/> is more <c>spec</c> (exportTo, gateways),
    /// <paramref name="labels"/> a YAML map.</summary>
    private static string MeshVs(string name, string host, string ns = "default", string extra = "", string labels = "{}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: {{name}}, namespace: {{ns}}, labels: {{labels}}}
        spec:
          hosts: ["{{host}}"]
          http:
          - route:
            - destination: {host: "{{host}}"}
        {{extra}}
        """;

    private static readonly string HttpbinSe = Se("httpbin", "httpbin.org", ports: "[{number: 80, name: http, protocol: HTTP}]");

    [Fact]
    public void Egw108_TwoMeshVirtualServicesForOneHost_WarnOnEachNamingTheOther()
    {
        var report = Check(HttpbinSe, MeshVs("httpbin-timeout", "httpbin.org"), MeshVs("httpbin-retries", "httpbin.org"));

        var findings = Of(report, RuleIds.DuplicateMeshVirtualService);
        Assert.Equal(2, findings.Count);
        var retries = Assert.Single(findings, f => f.Object == new ObjectRef("VirtualService", "default", "httpbin-retries"));
        Assert.Equal(Severity.Warning, retries.Severity);
        Assert.Equal("spec.hosts[0]", retries.Path);
        Assert.Equal("host httpbin.org also has mesh routes in VirtualService default/httpbin-timeout; merge them into one", retries.Message);
        Assert.Equal([new ObjectRef("VirtualService", "default", "httpbin-timeout")], retries.Related);
        Assert.Contains(findings, f => f.Object.Name == "httpbin-timeout" && f.Message.Contains("default/httpbin-retries", StringComparison.Ordinal));
    }

    [Fact]
    public void Egw108_OneVirtualServiceForTheHost_IsSilent()
    {
        var report = Check(HttpbinSe, MeshVs("httpbin-timeout", "httpbin.org"), MeshVs("other", "other.example.com"));

        Assert.Empty(Of(report, RuleIds.DuplicateMeshVirtualService));
    }

    [Fact]
    public void Egw108_GeneratedVirtualService_IsAnError()
    {
        var report = Check(HttpbinSe, MeshVs("httpbin-timeout", "httpbin.org"),
            MeshVs("httpbin-egress", "httpbin.org", labels: "{app.kubernetes.io/managed-by: egress-webhook}"));

        var findings = Of(report, RuleIds.DuplicateMeshVirtualService);
        Assert.Equal(Severity.Error, Assert.Single(findings, f => f.Object.Name == "httpbin-egress").Severity);
        Assert.Equal(Severity.Warning, Assert.Single(findings, f => f.Object.Name == "httpbin-timeout").Severity);
    }

    [Theory]
    [InlineData("  gateways: [egress]", false)] // a gateway leg is not a mesh route
    [InlineData("  gateways: [mesh, egress]", true)]
    [InlineData("  gateways: [mesh]", true)]
    [InlineData("", true)] // no gateways means [mesh]
    public void Egw108_Binding_IsReadFromSpecGateways(string gateways, bool fires)
    {
        var report = Check(HttpbinSe, EgressGateway("httpbin.org"), MeshVs("httpbin-timeout", "httpbin.org"), MeshVs("leg", "httpbin.org", extra: gateways));

        Assert.Equal(fires, Of(report, RuleIds.DuplicateMeshVirtualService).Any(f => f.Object.Name == "httpbin-timeout"));
        Assert.Equal(fires, Of(report, RuleIds.DuplicateMeshVirtualService).Any(f => f.Object.Name == "leg"));
    }

    [Theory]
    [InlineData("  exportTo: [\".\"]", "  exportTo: [\".\"]", false)] // each kept to its namespace: no namespace sees both
    [InlineData("  exportTo: [\".\"]", "", true)] // the other is exported everywhere, team-a included
    [InlineData("  exportTo: [team-b]", "  exportTo: [\".\"]", true)] // team-a's route is exported to team-b
    [InlineData("  exportTo: [team-c]", "  exportTo: [team-d]", false)]
    [InlineData("  exportTo: [\"~\"]", "", false)] // exported nowhere
    public void Egw108_ExportScopes_MustShareANamespace(string exportA, string exportB, bool fires)
    {
        var report = Check(HttpbinSe, MeshVs("a", "httpbin.org", ns: "team-a", extra: exportA), MeshVs("b", "httpbin.org", ns: "team-b", extra: exportB));

        Assert.Equal(fires, Of(report, RuleIds.DuplicateMeshVirtualService).Count > 0);
    }

    [Fact]
    public void Egw108_MeshDefaultExportToOwnNamespace_KeepsNamespacesApart()
    {
        var mesh = RuleChecks.Mesh("defaultVirtualServiceExportTo: [\".\"]");

        var apart = Check(mesh, HttpbinSe, MeshVs("a", "httpbin.org", ns: "team-a"), MeshVs("b", "httpbin.org", ns: "team-b"));
        var together = Check(HttpbinSe, MeshVs("a", "httpbin.org", ns: "team-a"), MeshVs("b", "httpbin.org", ns: "team-b"));

        Assert.Empty(Of(apart, RuleIds.DuplicateMeshVirtualService));
        Assert.Equal(2, Of(together, RuleIds.DuplicateMeshVirtualService).Count);
    }

    [Theory]
    [InlineData("*.example.com", "api.example.com", true)] // a wildcard overlaps the hosts under it
    [InlineData("*.example.com", "example.com", false)] // *.s does not match s
    [InlineData("api.example.com", "www.example.com", false)]
    public void Egw108_HostsConflictWhenTheyOverlap(string hostA, string hostB, bool fires)
    {
        var report = Check(MeshVs("a", hostA), MeshVs("b", hostB));

        Assert.Equal(fires, Of(report, RuleIds.DuplicateMeshVirtualService).Any(f => f.Object.Name == "b"));
    }

    [Theory]
    [InlineData("reviews", "bookinfo", "reviews.bookinfo.svc.cluster.local", "frontend", true)]
    [InlineData("reviews", "bookinfo", "reviews", "frontend", false)] // reviews.frontend is another host
    public void Egw108_ShortNamesResolveInEachNamespace(string hostA, string nsA, string hostB, string nsB, bool fires)
    {
        var report = Check(Reviews, MeshVs("a", hostA, ns: nsA), MeshVs("b", hostB, ns: nsB));

        var findings = Of(report, RuleIds.DuplicateMeshVirtualService);
        Assert.Equal(fires, findings.Count > 0);
        if (fires)
        {
            Assert.Contains(findings, f => f.Object.Name == "a" && f.Message.StartsWith("host reviews.bookinfo.svc.cluster.local ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Egw108_SeveralRivals_NamesTheFirstAndCountsTheOthers()
    {
        var report = Check(HttpbinSe, MeshVs("a", "httpbin.org"), MeshVs("b", "httpbin.org"), MeshVs("c", "httpbin.org"));

        var finding = Assert.Single(Of(report, RuleIds.DuplicateMeshVirtualService), f => f.Object.Name == "c");
        Assert.Contains("VirtualService default/a and 1 more; merge", finding.Message, StringComparison.Ordinal);
        Assert.Equal(2, finding.Related.Count);
    }

    [Fact]
    public void Egw108_SecondHost_IsReportedAtItsIndex()
    {
        var two = MeshVs("two", "api.example.com").Replace("hosts: [\"api.example.com\"]", "hosts: [\"api.example.com\", \"httpbin.org\"]", StringComparison.Ordinal);

        var report = Check(HttpbinSe, two, MeshVs("httpbin-timeout", "httpbin.org"));

        Assert.Equal("spec.hosts[1]", Assert.Single(Of(report, RuleIds.DuplicateMeshVirtualService), f => f.Object.Name == "two").Path);
    }

    [Fact]
    public void Egw108_ManyHosts_AreLookedUpAtOnceWithTheSameResult()
    {
        // past 8 hosts the rivals of every host are found in one pass over the index, not one look-up per host
        var hosts = string.Join(", ", Enumerable.Range(0, 12).Select(i => $"\"h{i}.example.com\""));
        var many = MeshVs("many", "h0.example.com").Replace("hosts: [\"h0.example.com\"]", $"hosts: [{hosts}]", StringComparison.Ordinal);

        var report = Check(many, MeshVs("h10", "h10.example.com"), MeshVs("leg", "h3.example.com", extra: "  gateways: [egress]"));

        var finding = Assert.Single(Of(report, RuleIds.DuplicateMeshVirtualService), f => f.Object.Name == "many");
        Assert.Equal("spec.hosts[10]", finding.Path);
        Assert.Contains("VirtualService default/h10;", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw108_CreatingTheSecond_ReportsBoth()
    {
        var report = CheckChange(MeshVs("httpbin-retries", "httpbin.org"), HttpbinSe, MeshVs("httpbin-timeout", "httpbin.org"));

        Assert.Equal(["httpbin-retries", "httpbin-timeout"], Of(report, RuleIds.DuplicateMeshVirtualService).Select(f => f.Object.Name).Order());
    }
}
