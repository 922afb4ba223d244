using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW503: a wildcard ServiceEntry bound to no waypoint, in a mesh with ambient namespaces.</summary>
public sealed class Egw503AmbientWildcardWithoutWaypointTests
{
    private static string Wildcard(string hosts = "[\"*.wikipedia.org\"]", string labels = "{}", string resolution = "NONE") =>
        Entry(name: "wikipedia", ns: "default", hosts: hosts, labels: labels, ports: "[{number: 443, name: tls, protocol: TLS}]", resolution: resolution);

    [Fact]
    public void Egw503_UnboundWildcardWithAmbientClients_WarnsOnTheHost()
    {
        var report = Check(AmbientNamespace("default"), Wildcard());

        var finding = Assert.Single(Of(report, RuleIds.AmbientWildcardWithoutWaypoint));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "default", "wikipedia"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.Equal("*.wikipedia.org is bound to no waypoint: ztunnel in ambient default sends it direct; label it istio.io/use-waypoint", finding.Message);
    }

    [Fact]
    public void Egw503_WildcardBoundToAWaypoint_IsSilent()
    {
        var report = Check(AmbientNamespace("default"), Waypoint(ns: "default"), Wildcard(labels: $"{{{UseWaypoint}: waypoint}}"));

        Assert.Empty(Of(report, RuleIds.AmbientWildcardWithoutWaypoint));
    }

    [Fact]
    public void Egw503_WildcardBoundThroughItsNamespace_IsSilent()
    {
        var report = Check(AmbientNamespace("default", $", {UseWaypoint}: waypoint"), Waypoint(ns: "default"), Wildcard());

        Assert.Empty(Of(report, RuleIds.AmbientWildcardWithoutWaypoint));
    }

    [Theory]
    [InlineData("{}")] // no Namespace objects: no ambient evidence
    [InlineData("{istio-injection: enabled}")] // sidecar mode needs no waypoint
    public void Egw503_NoAmbientNamespace_IsSilent(string labels)
    {
        var report = Check(Namespace("default", labels), Wildcard());

        Assert.Empty(Of(report, RuleIds.AmbientWildcardWithoutWaypoint));
    }

    [Fact]
    public void Egw503_ConcreteHost_IsSilent()
    {
        var report = Check(AmbientNamespace("default"), Wildcard(hosts: "[www.wikipedia.org]", resolution: "DNS"));

        Assert.Empty(Of(report, RuleIds.AmbientWildcardWithoutWaypoint));
    }

    [Fact]
    public void Egw503_OptedOut_SaysSo()
    {
        var report = Check(AmbientNamespace("default", $", {UseWaypoint}: waypoint"), Waypoint(ns: "default"), Wildcard(labels: $"{{{UseWaypoint}: none}}"));

        Assert.StartsWith("*.wikipedia.org is opted out of waypoints: ztunnel", Assert.Single(Of(report, RuleIds.AmbientWildcardWithoutWaypoint)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw503_DynamicDns_SaysItNeedsAWaypoint()
    {
        var report = Check(AmbientNamespace("default"), Wildcard(resolution: "DYNAMIC_DNS"));

        Assert.Contains("bound to no waypoint (DYNAMIC_DNS needs one):", Assert.Single(Of(report, RuleIds.AmbientWildcardWithoutWaypoint)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw503_FirstWildcardHost_IsTheOneReported()
    {
        var report = Check(AmbientNamespace("default"), AmbientNamespace("team-a"), Wildcard(hosts: "[wikipedia.org, \"*.wikipedia.org\", \"*.wikimedia.org\"]"));

        var finding = Assert.Single(Of(report, RuleIds.AmbientWildcardWithoutWaypoint));
        Assert.Equal("spec.hosts[1]", finding.Path);
        Assert.Contains("in ambient default (+1) sends", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw503_NamespaceTurningAmbient_ReportsTheWildcardEntry()
    {
        var report = CheckChange(AmbientNamespace("default"), Namespace("default"), Wildcard());

        Assert.Equal(new ObjectRef("ServiceEntry", "default", "wikipedia"), Assert.Single(Of(report, RuleIds.AmbientWildcardWithoutWaypoint)).Object);
    }
}
