using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Conformance;

/// <summary>Istio's published ambient egress walkthroughs (<c>../shared/istio-corpus/ambient/</c>): the manifest's verdict,
/// and the ambient rules (EGW5xx) on them and on small edits of them that break one link each.</summary>
public sealed class AmbientCorpusTests
{
    public static TheoryData<string> AmbientFiles => new(Corpus.Files.Where(f => f.Path.StartsWith("ambient/", StringComparison.Ordinal)).Select(f => f.Path));

    private static EgressReport Check(IEnumerable<EgressObject> objects) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default);

    private static CorpusFile File(string path) => Corpus.Files.Single(f => f.Path == path);

    private static IReadOnlyList<EgressObject> Edited(string path, string from, string to)
    {
        var text = System.IO.File.ReadAllText(Path.Combine(TestPaths.Corpus, path));
        Assert.Contains(from, text, StringComparison.Ordinal);
        return ManifestReader.Read(text.Replace(from, to, StringComparison.Ordinal));
    }

    private static IEnumerable<Finding> Ambient(EgressReport report) => report.Findings.Where(f => f.Rule.StartsWith("EGW5", StringComparison.Ordinal));

    [Fact]
    public void Manifest_ListsTheAmbientWalkthroughs()
    {
        Assert.True(AmbientFiles.Count >= 10, "expected the ambient/ entries of the corpus manifest");
    }

    /// <summary>Every ambient file gets the manifest's verdict: accept (no error), and no warning unless the verdict says (warn).</summary>
    [Theory]
    [MemberData(nameof(AmbientFiles))]
    public void CheckAll_AmbientFile_GivesTheManifestVerdict(string path)
    {
        var file = File(path);

        var report = Check(Corpus.Read(file));

        Assert.True(report.Errors == 0, $"{path}: unexpected errors:\n{string.Join('\n', report.Findings.Where(f => f.Severity == Severity.Error))}");
        if (file.Verdict == "accept")
        {
            // the walkthroughs' ambient chains are complete: no ambient finding (EGW111, the DestinationRule without a CA, is not one)
            Assert.Empty(Ambient(report));
        }
    }

    /// <summary>ambient/08 names a waypoint the blog post does not show, and keeps its entry with exportTo ["."]: warnings only.</summary>
    [Fact]
    public void CheckAll_WildcardDynamicDnsEntry_WarnsOfTheAbsentWaypointAndTheIgnoredExportTo()
    {
        var report = Check(Corpus.Read(File("ambient/08-wildcard-dynamic-dns-se-use-waypoint.yaml")));

        Assert.Equal(0, report.Errors);
        var rules = Ambient(report).Select(f => f.Rule).ToHashSet();
        Assert.Contains(RuleIds.WaypointBinding, rules);
        Assert.Contains(RuleIds.AmbientExportToIgnored, rules);
        Assert.Contains("WaypointIsNotReady", Ambient(report).Single(f => f.Rule == RuleIds.WaypointBinding).Message, StringComparison.Ordinal);
    }

    /// <summary>ambient/00's mesh config with ambient/01: the egress entry becomes NAMESPACE-visible, hidden from default.</summary>
    [Fact]
    public void CheckAll_VisibilityConfigWithTheEgressSetup_WarnsThatDefaultBypassesTheWaypoint()
    {
        var objects = Corpus.Read(File("ambient/00-meshconfig-serviceentry-visibility.yaml")).Concat(Corpus.Read(File("ambient/01-egress-waypoint-se-httpbin.yaml")));

        var report = Check(objects);

        var finding = Assert.Single(Ambient(report));
        Assert.Equal(RuleIds.WaypointVisibility, finding.Rule);
        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), finding.Object);
        Assert.Contains("default", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("istio.io/waypoint-for: service", "istio.io/waypoint-for: workload", "UnsupportedTrafficType")]
    [InlineData("gatewayClassName: istio-waypoint", "gatewayClassName: istio", "not a waypoint")]
    [InlineData("  name: waypoint\n  namespace: istio-egress", "  name: egress\n  namespace: istio-egress", "WaypointIsNotReady")]
    public void CheckAll_EgressSetupWithOneLinkBroken_ReportsTheWaypointBindingReason(string from, string to, string reason)
    {
        var report = Check(Edited("ambient/01-egress-waypoint-se-httpbin.yaml", from, to));

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.WaypointBinding);
        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), finding.Object);
        Assert.Contains(reason, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckAll_TlsOriginationWithoutItsDestinationRule_IsAnError()
    {
        var report = Check(Edited("ambient/03-egress-waypoint-tls-origination.yaml", "      mode: SIMPLE", "      mode: DISABLE"));

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.WaypointTlsOrigination);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("spec.ports[0].targetPort", finding.Path);
    }

    [Fact]
    public void CheckAll_PolicyTargetingTheHost_SuggestsTheEntryName()
    {
        var report = Check(Edited("ambient/02-egress-waypoint-authz-targetref-se.yaml", "    name: httpbin-org\n  action", "    name: httpbin.org\n  action"));

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.PolicyTargetNotFound);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains("use its name httpbin-org", finding.Message, StringComparison.Ordinal);
    }

    /// <summary>ambient/06's cross-namespace waypoint with the entry the page labels by kubectl: admitted only from the
    /// namespace its selector names.</summary>
    [Theory]
    [InlineData("cross-namespace-waypoint-consumer", false)]
    [InlineData("team-a", true)]
    public void CheckAll_CrossNamespaceWaypoint_AdmitsOnlyTheSelectedNamespace(string entryNamespace, bool denied)
    {
        var entry = ManifestReader.Read($$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: istio-site
              namespace: {{entryNamespace}}
              labels: {istio.io/use-waypoint: egress-gateway, istio.io/use-waypoint-namespace: common-infrastructure}
            spec:
              hosts: [istio.io]
              ports: [{number: 443, name: tls, protocol: TLS}]
              resolution: DNS
            """);

        var report = Check(Corpus.Read(File("ambient/06-waypoint-cross-namespace-egress-gateway.yaml")).Concat(entry));

        Assert.Equal(denied, report.Findings.Any(f => f.Rule == RuleIds.WaypointBinding && f.Message.StartsWith("AttachmentDenied", StringComparison.Ordinal)));
    }

    [Fact]
    public void CheckAll_WaypointWithoutAddressInTheCluster_IsNotReady()
    {
        var objects = Corpus.Read(File("ambient/01-egress-waypoint-se-httpbin.yaml"));

        var offline = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default);
        var cluster = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default with { WholeCluster = true });

        Assert.DoesNotContain(offline.Findings, f => f.Rule == RuleIds.WaypointBinding);
        Assert.Contains(cluster.Findings, f => f.Rule == RuleIds.WaypointBinding && f.Message.Contains("no address", StringComparison.Ordinal));
    }
}
