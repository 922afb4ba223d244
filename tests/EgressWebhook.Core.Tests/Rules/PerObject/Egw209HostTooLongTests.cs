using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.PerObject;

/// <summary>EGW209: a host longer than a DNS name can be (253 characters, 255 for a wildcard), in each host field.</summary>
public sealed class Egw209HostTooLongTests
{
    /// <summary>A dotted host of exactly <paramref name="length"/> characters ending in <c>.com</c>.</summary>
    private static string Host(int length)
    {
        var name = string.Concat(Enumerable.Repeat("abcdefghi.", 30))[..(length - 4)].TrimEnd('.');
        var host = name.PadRight(length - 4, 'x') + ".com";
        Assert.Equal(length, host.Length);
        return host;
    }

    private static string Entry(params string[] hosts) => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: generated, namespace: default}
        spec:
          hosts: [{{string.Join(", ", hosts)}}]
          ports: [{number: 443, name: tls, protocol: TLS}]
          resolution: NONE
        """;

    [Fact]
    public void Egw209_ServiceEntryHostLongerThanADnsName_IsAnErrorOnTheHost()
    {
        var report = Check(Entry("api.example.com", Host(254)));

        var finding = Assert.Single(Of(report, RuleIds.HostTooLong));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", "default", "generated"), finding.Object);
        Assert.Equal("spec.hosts[1]", finding.Path);
        Assert.Equal("host of 254 characters (abcdefghi.abcdef…) is longer than a DNS name (max 253); shorten it", finding.Message);
    }

    [Fact]
    public void Egw209_HostOf253Characters_IsADnsName()
    {
        var report = Check(Entry(Host(253)));

        Assert.Empty(Of(report, RuleIds.HostTooLong));
    }

    [Theory]
    [InlineData(255, false)] // *. before a 253-character name
    [InlineData(256, true)]
    public void Egw209_Wildcard_MayBeTwoCharactersLonger(int length, bool fires)
    {
        var report = Check(Entry("\"*." + Host(length - 2) + "\""));

        var findings = Of(report, RuleIds.HostTooLong);
        Assert.Equal(fires, findings.Count == 1);
        if (fires)
        {
            Assert.Contains("(max 255)", findings[0].Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Egw209_SeveralLongHosts_OneFindingOnTheFirstCountingTheOthers()
    {
        var report = Check(Entry(Host(300), "api.example.com", Host(260), Host(254)));

        var finding = Assert.Single(Of(report, RuleIds.HostTooLong));
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.Equal("host of 300 characters (abcdefghi.abcdef…) is longer than a DNS name (max 253) (+2 more); shorten it", finding.Message);
    }

    [Fact]
    public void Egw209_VirtualServiceHost_IsChecked()
    {
        var report = Check(Vs(Host(254), "api.example.com"));

        var finding = Assert.Single(Of(report, RuleIds.HostTooLong));
        Assert.Equal(new ObjectRef("VirtualService", "default", "vs"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
    }

    [Fact]
    public void Egw209_RouteDestinationHost_IsChecked()
    {
        var report = Check(Vs("api.example.com", Host(254)));

        Assert.Equal("spec.tls[0].route[0].destination.host", Assert.Single(Of(report, RuleIds.HostTooLong)).Path);
    }

    [Fact]
    public void Egw209_DestinationRuleHost_IsChecked()
    {
        var report = Check(Dr("default", Host(254), "v1"));

        var finding = Assert.Single(Of(report, RuleIds.HostTooLong));
        Assert.Equal(new ObjectRef("DestinationRule", "default", "dr"), finding.Object);
        Assert.Equal("spec.host", finding.Path);
    }

    [Theory]
    [InlineData("./", 253, false)] // only the DNS part of ns/host counts
    [InlineData("*/", 254, true)]
    [InlineData("", 254, true)]
    public void Egw209_GatewayServerHost_ItsDnsPartIsChecked(string prefix, int length, bool fires)
    {
        var report = Check(EgressGateway(prefix + Host(length)));

        var findings = Of(report, RuleIds.HostTooLong);
        Assert.Equal(fires, findings.Count == 1);
        if (fires)
        {
            Assert.Equal("spec.servers[0].hosts[0]", findings[0].Path);
            Assert.Equal(new ObjectRef("Gateway", "default", "egress"), findings[0].Object);
        }
    }
}
