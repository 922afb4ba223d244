using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW118: one host declared in several namespaces that a namespace sees together, and the one that serves it.</summary>
public sealed class Egw118HostInSeveralNamespacesTests
{
    private static string Entry(string ns, string host = "api.example.com", string name = "api", string extra = "", string created = "") =>
        Se(name, host, ns: ns, extra: extra).Replace($"metadata: {{name: {name}, namespace: {ns}}}",
            created.Length == 0 ? $"metadata: {{name: {name}, namespace: {ns}}}" : $"metadata: {{name: {name}, namespace: {ns}, creationTimestamp: \"{created}\"}}",
            StringComparison.Ordinal);

    [Fact]
    public void Egw118_HostInTwoNamespaces_WarnsOnTheLoserNamingTheWinner()
    {
        var report = Check(Entry("team-a"), Entry("team-b"));

        var finding = Assert.Single(Of(report, RuleIds.HostInSeveralNamespaces));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "team-b", "api"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.Equal("api.example.com is also in team-a/api; shared namespaces get ServiceEntry team-a/api (first by name); keep one", finding.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "team-a", "api")], finding.Related);
    }

    [Fact]
    public void Egw118_TwoEntriesOfOneNamespace_AreMergedNotJudged()
    {
        var report = Check(Entry("team-a", name: "api"), Entry("team-a", name: "api-2"));

        Assert.Empty(Of(report, RuleIds.HostInSeveralNamespaces));
    }

    [Fact]
    public void Egw118_OldestEntryWins_WhateverItsName()
    {
        var report = Check(Entry("team-a", created: "2026-03-01T00:00:00Z"), Entry("team-b", created: "2026-01-01T00:00:00Z"));

        var finding = Assert.Single(Of(report, RuleIds.HostInSeveralNamespaces));
        Assert.Equal("team-a", finding.Object.Namespace);
        Assert.EndsWith("get ServiceEntry team-b/api (oldest wins); keep one", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw118_EntryWithATimestamp_IsOlderThanOneWithout()
    {
        var report = Check(Entry("team-a"), Entry("team-b", created: "2026-01-01T00:00:00Z"));

        Assert.Equal("team-a", Assert.Single(Of(report, RuleIds.HostInSeveralNamespaces)).Object.Namespace);
    }

    [Theory]
    [InlineData("  exportTo: [\".\"]", "  exportTo: [\".\"]", false)] // no namespace sees both
    [InlineData("  exportTo: [\".\"]", "", true)] // team-a sees both
    [InlineData("  exportTo: [team-c]", "  exportTo: [team-d]", false)]
    [InlineData("  exportTo: [team-c]", "  exportTo: [team-c]", true)]
    [InlineData("  exportTo: [\"~\"]", "", false)]
    public void Egw118_ExportScopes_MustShareANamespace(string exportA, string exportB, bool fires)
    {
        var report = Check(Entry("team-a", extra: exportA), Entry("team-b", extra: exportB));

        Assert.Equal(fires, Of(report, RuleIds.HostInSeveralNamespaces).Count == 1);
    }

    [Fact]
    public void Egw118_MeshDefaultExportToOwnNamespace_KeepsNamespacesApart()
    {
        var mesh = RuleChecks.Mesh("defaultServiceExportTo: [\".\"]");

        var report = Check(mesh, Entry("team-a"), Entry("team-b"));

        Assert.Empty(Of(report, RuleIds.HostInSeveralNamespaces));
    }

    [Fact]
    public void Egw118_SeveralRivals_NamesTheFirstAndCountsTheOthers()
    {
        var report = Check(Entry("team-a"), Entry("team-b"), Entry("team-c"));

        var findings = Of(report, RuleIds.HostInSeveralNamespaces);
        Assert.Equal(2, findings.Count);
        var c = Assert.Single(findings, f => f.Object.Namespace == "team-c");
        Assert.StartsWith("api.example.com is also in team-a/api (+1); shared namespaces get ServiceEntry team-a/api", c.Message, StringComparison.Ordinal);
        Assert.Equal(2, c.Related.Count);
    }

    [Theory]
    [InlineData("*.example.com")] // only the exact host is one definition: a wildcard is another host
    [InlineData("www.example.com")]
    public void Egw118_OtherHost_IsNoRival(string host)
    {
        var report = Check(Entry("team-a"), Entry("team-b", host: host).Replace("resolution: DNS", "resolution: NONE", StringComparison.Ordinal));

        Assert.Empty(Of(report, RuleIds.HostInSeveralNamespaces));
    }

    [Fact]
    public void Egw118_SecondHost_IsReportedAtItsIndex()
    {
        var two = Entry("team-b").Replace("hosts: [\"api.example.com\"]", "hosts: [\"www.example.com\", \"api.example.com\"]", StringComparison.Ordinal);

        var report = Check(Entry("team-a"), two);

        Assert.Equal("spec.hosts[1]", Assert.Single(Of(report, RuleIds.HostInSeveralNamespaces)).Path);
    }

    [Fact]
    public void Egw118_OneEntryForAServicesHost_HasNoRival()
    {
        var report = Check(Reviews, Entry("team-a", host: "reviews.bookinfo.svc.cluster.local"));

        Assert.Empty(Of(report, RuleIds.HostInSeveralNamespaces));
    }

    [Fact]
    public void Egw118_AKubernetesServiceOfTheHost_Wins()
    {
        const string yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: shop}
            spec:
              ports: [{name: http, port: 80}]
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api, namespace: team-a}
            spec:
              hosts: [api.shop.svc.cluster.local]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api, namespace: team-b}
            spec:
              hosts: [api.shop.svc.cluster.local]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
            """;

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(ManifestReader.Read(yaml)), RuleSettings.Default);

        var findings = report.Findings.Where(f => f.Rule == RuleIds.HostInSeveralNamespaces).ToList();
        Assert.Equal(2, findings.Count);
        Assert.All(findings, f => Assert.Contains("get Service shop/api (a Service wins)", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Egw118_CreatingTheWinner_ReportsTheEntryThatNowLoses()
    {
        var report = CheckChange(Entry("team-a"), Entry("team-b"));

        var finding = Assert.Single(Of(report, RuleIds.HostInSeveralNamespaces));
        Assert.Equal(new ObjectRef("ServiceEntry", "team-b", "api"), finding.Object);
    }
}
