using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW115: a gateway leg to a NONE-resolution entry loops.</summary>
public sealed class Egw115GatewayToNoneResolutionLoopTests
{
    [Theory]
    [InlineData("NONE", "", true)]
    [InlineData("DNS", "", false)]
    [InlineData("NONE", "  workloadSelector: {labels: {app: api}}", false)]
    [InlineData("NONE", "  endpoints: [{address: 10.0.0.1}]", false)]
    public void Egw115_GatewayLegToNoneResolution(string resolution, string extra, bool fires)
    {
        var report = Check(Se("se", "api.example.com", resolution: resolution, extra: extra), EgressGateway("api.example.com"),
            Vs("api.example.com", "api.example.com", gateways: "[egress]"));

        Assert.Equal(fires, Of(report, RuleIds.GatewayToNoneResolutionLoop).Count == 1);
    }

    [Fact]
    public void Egw115_ExactDnsEntryWinsOverNoneWildcard()
    {
        // the wildcard-egress-hosts task: *.wikipedia.org (NONE) at the sidecar, www.wikipedia.org (DNS) from the gateway
        var report = Check(Se("wild", "*.wikipedia.org", resolution: "NONE"), Se("www", "www.wikipedia.org"),
            EgressGateway("*.wikipedia.org"), Vs("*.wikipedia.org", "www.wikipedia.org", gateways: "[egress]"));

        Assert.Empty(Of(report, RuleIds.GatewayToNoneResolutionLoop));
    }
}
