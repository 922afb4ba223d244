using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW303: wildcard external hosts where the policy forbids them and does not list them.</summary>
public sealed class Egw303WildcardHostTests
{
    private static readonly string NoWildcards = PolicyYaml("no-wildcards", "wildcards: {forbid: true}");

    private static readonly string ListedWildcard = PolicyYaml("listed", "wildcards: {forbid: true, allowed: [\"*.example.com\"]}");

    private static List<Finding> Egw303(EgressReport report) => Of(report, RuleIds.PolicyWildcardHost);

    [Fact]
    public void Egw303_WildcardEntryHost_IsAnErrorNamingTheFix()
    {
        var report = Check(NoWildcards, Se("wild", "*.example.com", resolution: "NONE"));

        var finding = Assert.Single(Egw303(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", Team, "wild"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.Equal("wildcard *.example.com forbidden (allowed: none); list exact hosts (EgressPolicy no-wildcards)", finding.Message);
        Assert.Equal("no-wildcards", finding.Policy);
    }

    [Fact]
    public void Egw303_NearMiss_ExactHost()
    {
        var report = Check(NoWildcards, Se("api", "api.example.com"));

        Assert.Empty(Egw303(report));
    }

    [Fact]
    public void Egw303_NearMiss_ForbidFalse()
    {
        var report = Check(PolicyYaml("lenient", "wildcards: {forbid: false}"), Se("wild", "*.example.com", resolution: "NONE"));

        Assert.Empty(Egw303(report));
    }

    [Fact]
    public void Egw303_NearMiss_OtherNamespace()
    {
        var report = Check(NoWildcards, Se("wild", "*.example.com", ns: "team-b", resolution: "NONE"));

        Assert.Empty(Egw303(report));
    }

    [Theory]
    [InlineData("*.example.com", false)] // listed
    [InlineData("*.api.example.com", false)] // within a listed one
    [InlineData("*.other.com", true)]
    [InlineData("*", true)] // everything is wider than any listed wildcard
    public void Egw303_ListedWildcards_PassWithWhatTheyCover(string host, bool fires)
    {
        var report = Check(ListedWildcard, Se("wild", host, resolution: "NONE"));

        var findings = Egw303(report);
        Assert.Equal(fires, findings.Count == 1);
        Assert.All(findings, f => Assert.Contains("(allowed: *.example.com)", f.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Egw303_ManyListedWildcards_MessageShowsTwo()
    {
        var policy = PolicyYaml("listed", "wildcards: {forbid: true, allowed: [\"*.a.com\", \"*.b.com\", \"*.c.com\"]}");

        var report = Check(policy, Se("wild", "*.other.com", resolution: "NONE"));

        Assert.Contains("(allowed: *.a.com,*.b.com,…)", Assert.Single(Egw303(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw303_EntryWithSeveralPorts_OneFindingForTheHost()
    {
        var report = Check(NoWildcards,
            Se("wild", "*.example.com", resolution: "NONE", ports: "[{number: 443, name: tls, protocol: TLS}, {number: 80, name: http, protocol: HTTP}]"));

        Assert.Single(Egw303(report));
    }

    [Fact]
    public void Egw303_VirtualServiceHost_IsJudged()
    {
        var report = Check(NoWildcards, Vs("vs", "*.example.com", "istio-egressgateway.istio-system.svc.cluster.local"));

        var finding = Assert.Single(Egw303(report));
        Assert.Equal(new ObjectRef("VirtualService", Team, "vs"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
    }

    [Fact]
    public void Egw303_DestinationRuleHost_IsJudged()
    {
        var report = Check(NoWildcards, Dr("dr", "*.example.com"));

        var finding = Assert.Single(Egw303(report));
        Assert.Equal(new ObjectRef("DestinationRule", Team, "dr"), finding.Object);
        Assert.Equal("spec.host", finding.Path);
    }

    [Fact]
    public void Egw303_ClusterLocalWildcard_IsNotExternal()
    {
        var report = Check(NoWildcards, Dr("dr", "*.team-a.svc.cluster.local"));

        Assert.Empty(Egw303(report));
    }

    [Fact]
    public void Egw303_WarnPolicy_IsAWarning()
    {
        var report = Check(PolicyYaml("no-wildcards", "action: Warn\nwildcards: {forbid: true}"), Se("wild", "*.example.com", resolution: "NONE"));

        Assert.Equal(Severity.Warning, Assert.Single(Egw303(report)).Severity);
    }
}
