using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW508: a ServiceEntry's narrowing <c>exportTo</c>, which ztunnel and waypoints do not honour.</summary>
public sealed class Egw508AmbientExportToIgnoredTests
{
    [Fact]
    public void Egw508_NarrowedEntryWithOtherAmbientNamespaces_WarnsOnExportTo()
    {
        var report = Check([.. EgressSetup(), Entry(extra: "  exportTo: [\".\"]")]);

        var finding = Assert.Single(Of(report, RuleIds.AmbientExportToIgnored));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), finding.Object);
        Assert.Equal("spec.exportTo", finding.Path);
        Assert.Equal("ztunnel and waypoints ignore exportTo: ambient default can use it; restrict with a waypoint AuthorizationPolicy", finding.Message);
    }

    [Theory]
    [InlineData("")] // unset: exported everywhere anyway
    [InlineData("  exportTo: [\"*\"]")]
    [InlineData("  exportTo: [\".\", \"*\"]")]
    public void Egw508_EntryExportedEverywhere_IsSilent(string exportTo)
    {
        var report = Check([.. EgressSetup(), Entry(extra: exportTo)]);

        Assert.Empty(Of(report, RuleIds.AmbientExportToIgnored));
    }

    [Theory]
    [InlineData("  exportTo: [team-a]")]
    [InlineData("  exportTo: [\"~\"]")]
    public void Egw508_AnyNarrowingList_IsJudged(string exportTo)
    {
        var report = Check([.. EgressSetup(), Entry(extra: exportTo)]);

        Assert.Single(Of(report, RuleIds.AmbientExportToIgnored));
    }

    [Fact]
    public void Egw508_UnboundEntryInASidecarMesh_IsSilent()
    {
        var report = Check(Namespace("default"), Namespace("istio-egress"), Entry(extra: "  exportTo: [\".\"]"));

        Assert.Empty(Of(report, RuleIds.AmbientExportToIgnored));
    }

    [Fact]
    public void Egw508_UnboundEntryOfTheOnlyAmbientNamespace_IsSilent()
    {
        // its own namespace is allowed by exportTo ["."] anyway
        var report = Check(Namespace("default"), AmbientNamespace("istio-egress"), Entry(extra: "  exportTo: [\".\"]"));

        Assert.Empty(Of(report, RuleIds.AmbientExportToIgnored));
    }

    [Fact]
    public void Egw508_UnboundEntryWithAmbientClients_IsJudged()
    {
        var report = Check(AmbientNamespace("default"), AmbientNamespace("team-a"), Namespace("istio-egress"), Entry(extra: "  exportTo: [\".\"]"));

        Assert.Contains("ambient default (+1) can use it", Assert.Single(Of(report, RuleIds.AmbientExportToIgnored)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw508_BoundEntryWithoutOtherAmbientNamespaces_NamesEveryAmbientNamespace()
    {
        var report = Check(Waypoint(), BoundEntry(extra: "  exportTo: [\".\"]"));

        Assert.Contains("ignore exportTo: every ambient namespace can use it", Assert.Single(Of(report, RuleIds.AmbientExportToIgnored)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw508_NamespaceTurningAmbient_ReportsTheNarrowedEntry()
    {
        var report = CheckChange(AmbientNamespace("default"), Namespace("default"), Namespace("istio-egress"), Entry(extra: "  exportTo: [\".\"]"));

        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), Assert.Single(Of(report, RuleIds.AmbientExportToIgnored)).Object);
    }
}
