using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW502: Istio 1.31's <c>serviceEntryVisibility</c> on a waypoint-bound entry, which ambient always honours.</summary>
public sealed class Egw502WaypointVisibilityTests
{
    /// <summary>A mesh config with <c>serviceEntryVisibility</c>; <paramref name="policies"/> are lines at the policy list's
    /// own indentation.</summary>
    private static string Visibility(string defaultVisibility, string applyToSidecars = "true", params string[] policies) =>
        RuleChecks.MeshVisibility(defaultVisibility, applyToSidecars, policies);

    [Fact]
    public void Egw502_NamespaceVisibleEntry_WarnsThatOtherAmbientNamespacesBypassTheWaypoint()
    {
        var report = Check([Visibility("NAMESPACE"), .. EgressSetup(), Entry()]);

        var finding = Assert.Single(Of(report, RuleIds.WaypointVisibility));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), finding.Object);
        Assert.Equal("metadata.namespace", finding.Path);
        Assert.Equal("NAMESPACE visibility hides it from ambient default, which bypass istio-egress/waypoint; make istio-egress PUBLIC", finding.Message);
    }

    [Theory]
    [InlineData("PUBLIC", false)]
    [InlineData("NAMESPACE", true)]
    [InlineData("NONE", true)]
    public void Egw502_DefaultVisibility(string visibility, bool fires)
    {
        var report = Check([Visibility(visibility), .. EgressSetup(), Entry()]);

        Assert.Equal(fires, Of(report, RuleIds.WaypointVisibility).Count == 1);
    }

    [Fact]
    public void Egw502_NoVisibilityConfig_IsPublic()
    {
        var report = Check([.. EgressSetup(), Entry()]);

        Assert.Empty(Of(report, RuleIds.WaypointVisibility));
    }

    [Fact]
    public void Egw502_AmbientHonoursItWithoutApplyToSidecars()
    {
        var report = Check([Visibility("NAMESPACE", applyToSidecars: "false"), .. EgressSetup(), Entry()]);

        Assert.Single(Of(report, RuleIds.WaypointVisibility));
    }

    [Fact]
    public void Egw502_PublicPolicyForTheEgressNamespace_IsSilent()
    {
        var policy = Visibility("NAMESPACE", "true",
            "- visibility: PUBLIC",
            "  matchingRules:",
            "  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: istio-egress}}");

        var report = Check([policy, .. EgressSetup(), Entry()]);

        Assert.Empty(Of(report, RuleIds.WaypointVisibility));
    }

    [Fact]
    public void Egw502_NoOtherAmbientNamespace_HidesItFromNoClient()
    {
        // default runs sidecars: its clients are not ambient
        var report = Check(Visibility("NAMESPACE"), Namespace("default"), AmbientNamespace("istio-egress", $", {UseWaypoint}: waypoint"), Waypoint(), Entry());

        Assert.Empty(Of(report, RuleIds.WaypointVisibility));
    }

    [Fact]
    public void Egw502_SeveralHiddenNamespaces_NamesTheFirstAndCountsTheOthers()
    {
        var report = Check([Visibility("NAMESPACE"), .. EgressSetup(), AmbientNamespace("team-a"), Entry()]);

        Assert.Contains("from ambient default (+1), which", Assert.Single(Of(report, RuleIds.WaypointVisibility)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw502_NamespaceVisibleEntryBoundAcrossNamespaces_IsForbidden()
    {
        var report = Check(Visibility("NAMESPACE"), AmbientNamespace("default"), AmbientNamespace("team-a"), Waypoint(allowedRoutes: "{namespaces: {from: All}}"),
            BoundEntry(ns: "team-a", waypointNamespace: "istio-egress"));

        var finding = Assert.Single(Of(report, RuleIds.WaypointVisibility));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "team-a", "httpbin-org"), finding.Object);
        Assert.Equal($"metadata.labels[{UseWaypoint}]", finding.Path);
        Assert.Equal("CrossNamespaceWaypointForbidden: NAMESPACE-visible, bound to istio-egress/waypoint; use a same-namespace waypoint", finding.Message);
    }

    [Fact]
    public void Egw502_PublicEntryBoundAcrossNamespaces_IsAllowed()
    {
        var report = Check(AmbientNamespace("team-a"), Waypoint(allowedRoutes: "{namespaces: {from: All}}"), BoundEntry(ns: "team-a", waypointNamespace: "istio-egress"));

        Assert.Empty(Of(report, RuleIds.WaypointVisibility));
    }

    [Fact]
    public void Egw502_UnboundEntry_IsNotJudged()
    {
        var report = Check(Visibility("NAMESPACE"), AmbientNamespace("default"), AmbientNamespace("istio-egress"), Entry());

        Assert.Empty(Of(report, RuleIds.WaypointVisibility));
    }

    [Fact]
    public void Egw502_ClientNamespaceTurningAmbient_ReportsTheHiddenEntry()
    {
        var report = CheckChange(AmbientNamespace("default"), Visibility("NAMESPACE"), Namespace("default"),
            AmbientNamespace("istio-egress", $", {UseWaypoint}: waypoint"), Waypoint(), Entry());

        Assert.Equal(new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org"), Assert.Single(Of(report, RuleIds.WaypointVisibility)).Object);
    }
}
