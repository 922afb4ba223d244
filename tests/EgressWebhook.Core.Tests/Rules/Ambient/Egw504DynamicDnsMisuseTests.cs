using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW504: <c>resolution: DYNAMIC_DNS</c> with a concrete host, a port without a host name per connection, or a
/// waypoint-bound entry that is not MESH_EXTERNAL.</summary>
public sealed class Egw504DynamicDnsMisuseTests
{
    private const string Tls = "[{number: 443, name: tls, protocol: TLS}]";

    private static string Dynamic(string hosts = "[\"*.wikipedia.org\"]", string ports = Tls, string labels = "{}", string extra = "", string resolution = "DYNAMIC_DNS") =>
        Entry(name: "wikipedia", ns: "default", hosts: hosts, labels: labels, ports: ports, resolution: resolution, extra: extra);

    [Fact]
    public void Egw504_WildcardWithTls_IsWhatDynamicDnsIsFor()
    {
        var report = Check(Dynamic());

        Assert.Empty(Of(report, RuleIds.DynamicDnsMisuse));
    }

    [Fact]
    public void Egw504_ConcreteHost_IsAnErrorOnTheHost()
    {
        var report = Check(Dynamic(hosts: "[\"*.wikipedia.org\", www.wikipedia.org]"));

        var finding = Assert.Single(Of(report, RuleIds.DynamicDnsMisuse));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "default", "wikipedia"), finding.Object);
        Assert.Equal("spec.hosts[1]", finding.Path);
        Assert.Equal("DYNAMIC_DNS resolves wildcard hosts only, not www.wikipedia.org; use resolution DNS for a concrete host", finding.Message);
    }

    [Theory]
    [InlineData("[{number: 443, name: tcp, protocol: TCP}]", "TCP")]
    [InlineData("[{number: 443, name: tcp, protocol: tcp}]", "TCP")] // protocols compare case-insensitively
    [InlineData("[{number: 443, name: p}]", "protocol-less")]
    public void Egw504_PortWithoutAHostNamePerConnection_IsAnErrorOnItsProtocol(string ports, string what)
    {
        var report = Check(Dynamic(ports: ports));

        var finding = Assert.Single(Of(report, RuleIds.DynamicDnsMisuse));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("spec.ports[0].protocol", finding.Path);
        Assert.Equal($"DYNAMIC_DNS needs a host name per connection; port 443 is {what}; use TLS or HTTP", finding.Message);
    }

    [Theory]
    [InlineData("HTTP")]
    [InlineData("HTTP2")]
    [InlineData("GRPC")]
    [InlineData("TLS")]
    public void Egw504_PortThatNamesItsHost_IsSilent(string protocol)
    {
        var report = Check(Dynamic(ports: $"[{{number: 8080, name: p, protocol: {protocol}}}]"));

        Assert.Empty(Of(report, RuleIds.DynamicDnsMisuse));
    }

    [Fact]
    public void Egw504_SecondPortOnly_IsReportedAtItsIndex()
    {
        var report = Check(Dynamic(ports: "[{number: 443, name: tls, protocol: TLS}, {number: 8443, name: tcp, protocol: TCP}]"));

        Assert.Equal("spec.ports[1].protocol", Assert.Single(Of(report, RuleIds.DynamicDnsMisuse)).Path);
    }

    [Fact]
    public void Egw504_OtherResolution_IsNotJudged()
    {
        var report = Check(Dynamic(hosts: "[www.wikipedia.org]", ports: "[{number: 443, name: tcp, protocol: TCP}]", resolution: "DNS"));

        Assert.Empty(Of(report, RuleIds.DynamicDnsMisuse));
    }

    [Fact]
    public void Egw504_WaypointBoundMeshInternalEntry_WarnsOnTheLocation()
    {
        var report = Check(Waypoint(ns: "default"), Dynamic(labels: $"{{{UseWaypoint}: waypoint}}", extra: "  location: MESH_INTERNAL"));

        var finding = Assert.Single(Of(report, RuleIds.DynamicDnsMisuse));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("spec.location", finding.Path);
        Assert.Equal("a waypoint resolves DYNAMIC_DNS only for MESH_EXTERNAL entries, not MESH_INTERNAL; set location MESH_EXTERNAL", finding.Message);
    }

    [Theory]
    [InlineData("{}", "  location: MESH_INTERNAL")] // not bound: sidecars resolve it
    [InlineData("{istio.io/use-waypoint: waypoint}", "  location: MESH_EXTERNAL")]
    [InlineData("{istio.io/use-waypoint: waypoint}", "")] // unset is MESH_EXTERNAL
    public void Egw504_LocationIsOnlyJudgedForAWaypointBoundEntry(string labels, string location)
    {
        var report = Check(Waypoint(ns: "default"), Dynamic(labels: labels, extra: location));

        Assert.Empty(Of(report, RuleIds.DynamicDnsMisuse));
    }
}
