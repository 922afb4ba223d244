using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW501: the waypoint a ServiceEntry is bound to must exist, be a waypoint, serve services and admit the entry.</summary>
public sealed class Egw501WaypointBindingTests
{
    private static readonly ObjectRef HttpbinEntry = new("ServiceEntry", "istio-egress", "httpbin-org");

    [Fact]
    public void Egw501_TheEgressTask_IsSilent()
    {
        var report = Check([.. EgressSetup(), Entry()]);

        Assert.Empty(Of(report, RuleIds.WaypointBinding));
    }

    [Fact]
    public void Egw501_NoWaypointOfTheLabelsName_WarnsThatTrafficGoesDirect()
    {
        var report = Check(AmbientNamespace("istio-egress"), BoundEntry());

        var finding = Assert.Single(Of(report, RuleIds.WaypointBinding));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(HttpbinEntry, finding.Object);
        Assert.Equal($"metadata.labels[{UseWaypoint}]", finding.Path);
        Assert.Equal("WaypointIsNotReady: no Gateway istio-egress/waypoint (its label); traffic goes direct; istioctl waypoint apply", finding.Message);
        Assert.Equal(ResourceKind.GatewayApiGateway, finding.Awaits?.Kind);
    }

    [Fact]
    public void Egw501_NamespaceLabelBinding_PointsAtTheNamespace()
    {
        var report = Check(AmbientNamespace("istio-egress", $", {UseWaypoint}: waypoint"), Entry());

        var finding = Assert.Single(Of(report, RuleIds.WaypointBinding));
        Assert.Equal("metadata.namespace", finding.Path);
        Assert.Contains("(label of namespace istio-egress)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw501_EntryOptingOut_IgnoresItsNamespacesWaypoint()
    {
        var optOut = Entry(labels: $"{{{UseWaypoint}: none}}");

        var report = Check(AmbientNamespace("istio-egress", $", {UseWaypoint}: waypoint"), optOut);

        Assert.Empty(Of(report, RuleIds.WaypointBinding));
    }

    [Fact]
    public void Egw501_UnboundEntry_IsNotJudged()
    {
        var report = Check(AmbientNamespace("istio-egress"), Entry());

        Assert.Empty(Of(report, RuleIds.WaypointBinding));
    }

    [Fact]
    public void Egw501_WaypointNamespaceLabel_NamesWhereTheWaypointIs()
    {
        // the waypoint exists in istio-egress, but the label sends the entry to common-infra
        var report = Check(Waypoint(), BoundEntry(waypointNamespace: "common-infra"));

        Assert.Contains("no Gateway common-infra/waypoint", Assert.Single(Of(report, RuleIds.WaypointBinding)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw501_GatewayOfAnotherClass_IsAnError()
    {
        var report = Check(Waypoint(className: "istio"), BoundEntry());

        var finding = Assert.Single(Of(report, RuleIds.WaypointBinding));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("Gateway istio-egress/waypoint is class istio, not a waypoint; use class istio-waypoint", finding.Message);
        Assert.Equal([new ObjectRef("GatewayApiGateway", "istio-egress", "waypoint")], finding.Related);
        Assert.Null(finding.Awaits);
    }

    [Theory]
    [InlineData("{istio.io/waypoint-for: workload}", true)]
    [InlineData("{istio.io/waypoint-for: none}", true)]
    [InlineData("{istio.io/waypoint-for: all}", false)]
    [InlineData("{istio.io/waypoint-for: service}", false)]
    [InlineData("{}", false)] // unset is service
    public void Egw501_WaypointTrafficType_MustIncludeServices(string labels, bool fires)
    {
        var report = Check(Waypoint(labels: labels), BoundEntry());

        var findings = Of(report, RuleIds.WaypointBinding);
        Assert.Equal(fires, findings.Count == 1);
        if (fires)
        {
            Assert.Equal(Severity.Error, findings[0].Severity);
            Assert.StartsWith("UnsupportedTrafficType: waypoint istio-egress/waypoint serves ", findings[0].Message, StringComparison.Ordinal);
            Assert.EndsWith("; set istio.io/waypoint-for=service", findings[0].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Egw501_WaypointOfAnotherNamespace_AdmitsOnlyItsOwnByDefault()
    {
        var report = Check(Waypoint(), BoundEntry(ns: "team-a", waypointNamespace: "istio-egress"));

        var finding = Assert.Single(Of(report, RuleIds.WaypointBinding));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "team-a", "httpbin-org"), finding.Object);
        Assert.Equal("AttachmentDenied: waypoint istio-egress/waypoint admits Same (unset), not team-a; fix its allowedRoutes", finding.Message);
    }

    [Theory]
    [InlineData("{namespaces: {from: All}}", "team-a", false)]
    [InlineData("{namespaces: {from: Same}}", "team-a", true)]
    [InlineData("{namespaces: {from: Selector, selector: {matchLabels: {egress: allowed}}}}", "team-a", false)]
    [InlineData("{namespaces: {from: Selector, selector: {matchLabels: {egress: allowed}}}}", "team-b", true)]
    public void Egw501_AllowedRoutes_DecideWhoMayAttach(string allowedRoutes, string entryNamespace, bool denied)
    {
        var report = Check(Namespace("team-a", "{egress: allowed}"), Namespace("team-b"), Waypoint(allowedRoutes: allowedRoutes),
            BoundEntry(ns: entryNamespace, waypointNamespace: "istio-egress"));

        Assert.Equal(denied, Of(report, RuleIds.WaypointBinding).Any(f => f.Message.StartsWith("AttachmentDenied", StringComparison.Ordinal)));
    }

    [Fact]
    public void Egw501_WaypointWithoutAddressInTheCluster_IsNotReady()
    {
        var settings = RuleSettings.Default with { WholeCluster = true };

        var offline = Check(Waypoint(), BoundEntry());
        var cluster = Check(settings, Waypoint(), BoundEntry());
        var ready = Check(settings, Waypoint(extra: "status: {addresses: [{type: IPAddress, value: 10.96.0.12}]}"), BoundEntry());

        Assert.Empty(Of(offline, RuleIds.WaypointBinding));
        var finding = Assert.Single(Of(cluster, RuleIds.WaypointBinding));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("WaypointIsNotReady: waypoint istio-egress/waypoint has no address; traffic goes direct; check its pods", finding.Message);
        Assert.Empty(Of(ready, RuleIds.WaypointBinding));
    }

    [Fact]
    public void Egw501_WaypointUpdateToAnotherClass_IsReportedOnTheBoundEntry()
    {
        var report = CheckChange(Waypoint(className: "istio"), Waypoint(), BoundEntry());

        Assert.Equal(HttpbinEntry, Assert.Single(Of(report, RuleIds.WaypointBinding)).Object);
    }

    [Fact]
    public void Egw501_NamespaceLabelledWithAMissingWaypoint_IsReportedOnItsEntries()
    {
        var report = CheckChange(AmbientNamespace("istio-egress", $", {UseWaypoint}: egress"), AmbientNamespace("istio-egress"), Waypoint(), Entry());

        var finding = Assert.Single(Of(report, RuleIds.WaypointBinding));
        Assert.Equal(HttpbinEntry, finding.Object);
        Assert.Contains("no Gateway istio-egress/egress", finding.Message, StringComparison.Ordinal);
    }
}
