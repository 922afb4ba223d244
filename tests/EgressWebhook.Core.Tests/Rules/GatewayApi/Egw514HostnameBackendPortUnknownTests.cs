using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.GatewayApi.GatewayApiFixtures;

namespace EgressWebhook.Core.Tests.Rules.GatewayApi;

/// <summary>EGW514: a <c>kind: Hostname</c> backend needs a ServiceEntry for its host with its port.</summary>
public sealed class Egw514HostnameBackendPortUnknownTests
{
    private static List<Finding> Egw514(EgressReport report) => Of(report, RuleIds.HostnameBackendPortUnknown);

    [Fact]
    public void Egw514_PortNotDeclared_IsAnErrorOnThePortNamingTheEntry()
    {
        var report = Check(Se(ports: "[{number: 80, name: http, protocol: HTTP}]"), Gateway(), SecondRoute());

        var finding = Assert.Single(Egw514(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("GatewayApiRoute", "default", "forward-cnn-from-egress-gateway"), finding.Object);
        Assert.Equal("spec.rules[0].backendRefs[0].port", finding.Path);
        Assert.Equal("port 443 is not a port of ServiceEntry default/cnn (80) for edition.cnn.com; use one or declare it", finding.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "default", "cnn")], finding.Related);
        Assert.Null(finding.Awaits);
    }

    [Fact]
    public void Egw514_NearMiss_PortDeclared()
    {
        var report = Check(Se(), Gateway(), SecondRoute());

        Assert.Empty(Egw514(report));
    }

    [Fact]
    public void Egw514_NoEntryForTheHost_IsAnErrorOnTheNameAwaitingOne()
    {
        var report = Check(Se(host: "www.cnn.com"), Gateway(), SecondRoute());

        var finding = Assert.Single(Egw514(report));
        Assert.Equal("spec.rules[0].backendRefs[0].name", finding.Path);
        Assert.Equal("no ServiceEntry declares edition.cnn.com: the Hostname backend has no service; add one", finding.Message);
        Assert.Equal(ResourceKind.ServiceEntry, finding.Awaits?.Kind);
        Assert.Null(finding.Awaits?.Key);
    }

    [Theory]
    [InlineData("*.cnn.com", "443", false)] // a wildcard entry covering the host
    [InlineData("*.cnn.com", "8443", true)] // ... without the port
    [InlineData("*.edition.cnn.com", "443", true)] // does not cover its apex: no entry
    public void Egw514_WildcardEntry(string entryHost, string port, bool fires)
    {
        var report = Check(Se(host: entryHost, resolution: "NONE"), SecondRoute(backends: ToHostname(port: port)));

        Assert.Equal(fires, Egw514(report).Count == 1);
    }

    [Fact]
    public void Egw514_NearMiss_NoPortGiven()
    {
        var report = Check(Se(ports: "[{number: 80, name: http, protocol: HTTP}]"), SecondRoute(backends: ToHostname(port: "")));

        Assert.Empty(Egw514(report));
    }

    [Fact]
    public void Egw514_NearMiss_AnotherEntryOfTheHostHasThePort()
    {
        var report = Check(Se(ports: "[{number: 80, name: http, protocol: HTTP}]"), Se(name: "cnn-tls"), SecondRoute());

        Assert.Empty(Egw514(report));
    }

    [Fact]
    public void Egw514_NoEntryHasThePort_NamesTheFirstAndRelatesAll()
    {
        var report = Check(Se(name: "b", ports: "[{number: 80, name: http, protocol: HTTP}]"), Se(name: "a", ports: "[{number: 8080, name: http, protocol: HTTP}]"),
            SecondRoute());

        var finding = Assert.Single(Egw514(report));
        Assert.StartsWith("port 443 is not a port of ServiceEntry default/a (8080)", finding.Message, StringComparison.Ordinal);
        Assert.Equal([new ObjectRef("ServiceEntry", "default", "a"), new ObjectRef("ServiceEntry", "default", "b")], finding.Related);
    }

    [Theory]
    [InlineData("[{name: cnn-egress-gateway-istio, port: 8443}]")] // a Service backend
    [InlineData("[{kind: Hostname, group: example.com, name: edition.cnn.com, port: 8443}]")] // not Istio's
    public void Egw514_NearMiss_NotAHostnameBackend(string backends)
    {
        var report = Check(Se(), Gateway(), SecondRoute(backends: backends));

        Assert.Empty(Egw514(report));
    }

    [Fact]
    public void Egw514_HostnameBackendOfAnyRoute_IsJudged()
    {
        // the first leg may send to the external host directly too
        var report = Check(Se(ports: "[{number: 80, name: http, protocol: HTTP}]"), FirstRoute(backends: ToHostname()));

        Assert.Equal(new ObjectRef("GatewayApiRoute", "default", "direct-cnn-to-egress-gateway"), Assert.Single(Egw514(report)).Object);
    }
}
