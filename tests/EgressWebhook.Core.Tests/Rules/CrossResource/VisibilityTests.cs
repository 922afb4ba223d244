using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>Istio 1.31 <c>serviceEntryVisibility</c> as a cap on exportTo.</summary>
public sealed class VisibilityTests
{
    private static RuleContext Context(string yaml) =>
        new(SnapshotView.Of(EgressSnapshot.Create(ManifestReader.Read(yaml))), RuleSettings.Default);

    /// <summary>A mesh config with <c>serviceEntryVisibility</c>; <paramref name="policies"/> are the policy lines, each
    /// written at the policies list's own indentation (no leading spaces).</summary>
    private static string Mesh(string[] policies, string apply = "true", string defaultVisibility = "PUBLIC") =>
        string.Join('\n',
        [
            RuleChecks.MeshVisibility(defaultVisibility, apply, policies),
            "---",
            "apiVersion: v1",
            "kind: Namespace",
            "metadata: {name: team-b, labels: {tier: shared}}",
            "---",
            "apiVersion: networking.istio.io/v1",
            "kind: ServiceEntry",
            "metadata: {name: api, namespace: team-b}",
            "spec:",
            "  hosts: [api.example.com]",
            "  ports: [{number: 443, name: tls, protocol: TLS}]",
            "  resolution: DNS",
        ]);

    private static ServiceEntry Entry(RuleContext context) => context.View.OfKind<ServiceEntry>(ResourceKind.ServiceEntry).Single();

    [Fact]
    public void FirstMatchingPolicyWins_MatchExpressionsOnNamespaceLabels()
    {
        var context = Context(Mesh(
        [
            "- visibility: NONE",
            "  matchingRules:",
            "  - namespaceSelector:",
            "      matchExpressions: [{key: tier, operator: In, values: [shared]}]",
            "- visibility: NAMESPACE",
            "  matchingRules: []",
        ]));

        Assert.Equal(ServiceEntryVisibilities.None, context.VisibilityOf(Entry(context)));
        Assert.False(context.IsExported(Entry(context), "team-b"));
    }

    [Fact]
    public void NamespaceVisibility_OwnNamespaceOnly_AndNeverWidensExportTo()
    {
        var context = Context(Mesh(
        [
            "- visibility: NAMESPACE",
            "  matchingRules:",
            "  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-b}}",
        ]));

        Assert.True(context.IsExported(Entry(context), "team-b"));
        Assert.False(context.IsExported(Entry(context), "istio-system"));
    }

    [Fact]
    public void WithoutApplyToSidecars_OnlyExportToDecides()
    {
        var context = Context(Mesh([], apply: "false", defaultVisibility: "NONE"));

        Assert.Equal(ServiceEntryVisibilities.Public, context.VisibilityOf(Entry(context)));
        Assert.True(context.IsExported(Entry(context), "default"));
    }

    [Fact]
    public void UnknownVisibility_MeshConfigRejected_Egw117_AndNothingIsCapped()
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(Mesh([], defaultVisibility: "PRIVATE")));

        var report = EgressEngine.Default.CheckAll(snapshot, RuleSettings.Default);

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.MeshConfigUnusable);
        Assert.Equal("data.mesh.serviceEntryVisibility.defaultVisibility", finding.Path);
        Assert.Null(snapshot.Mesh.ServiceEntryVisibility);
    }
}
