using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW301: what an object opens must be in the allow list of every EgressPolicy selecting its namespace.</summary>
public sealed class Egw301HostNotAllowedTests
{
    [Fact]
    public void Egw301_EntryHostOutsideTheAllowList_IsAnErrorOnTheHostNamingThePolicy()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("other", "api.other.com"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", Team, "other"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.StartsWith("api.other.com:443/TLS not allowed (allows *.example.com:443 TLS/HTTPS)", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; remove it or extend EgressPolicy allow-list", finding.Message, StringComparison.Ordinal);
        Assert.Equal("allow-list", finding.Policy);
        Assert.Equal([new ObjectRef("EgressPolicy", "", "allow-list")], finding.Related);
        Assert.False(finding.Audit);
    }

    [Theory]
    [InlineData("api.example.com", false)]
    [InlineData("*.api.example.com", false)] // a narrower wildcard is within the glob
    [InlineData("example.com", true)] // *.example.com does not cover its apex
    [InlineData("*.com", true)] // a wider wildcard is not within it
    [InlineData("api.example.com.evil.io", true)]
    public void Egw301_GlobCoverage_FollowsIstioWildcards(string host, bool fires)
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("se", host, resolution: "NONE"));

        Assert.Equal(fires, Of(report, RuleIds.PolicyHostNotAllowed).Count == 1);
    }

    [Fact]
    public void Egw301_NearMiss_EntryOfAnotherNamespace_IsNotJudged()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("other", "api.other.com", ns: "team-b"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Theory]
    [InlineData("[{number: 8443, name: tls, protocol: TLS}]", "api.example.com:8443/TLS")] // port not listed
    [InlineData("[{number: 443, name: tcp, protocol: TCP}]", "api.example.com:443/TCP")] // protocol not listed
    [InlineData("[{number: 443, name: http, protocol: http}]", "api.example.com:443/HTTP")] // written in lower case, shown upper
    public void Egw301_PortOrProtocolNotListed_Fires(string ports, string what)
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("se", "api.example.com", ports: ports));

        Assert.StartsWith(what + " not allowed", Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw301_ProtocolsCompareCaseInsensitively()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("se", "api.example.com", ports: "[{number: 443, name: tls, protocol: tls}]"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Fact]
    public void Egw301_AllowEntryWithoutPortsOrProtocols_AllowsEveryPort()
    {
        var report = Check(PolicyYaml("hosts-only", "allow: [{hosts: [api.example.com]}]"),
            Se("se", "api.example.com", ports: "[{number: 80, name: http, protocol: HTTP}, {number: 9000, name: tcp, protocol: TCP}]"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Fact]
    public void Egw301_SecondAllowEntryAllows_NoFinding()
    {
        var report = Check(PolicyYaml("two", "allow:\n- {hosts: [\"*.example.com\"], ports: [443]}\n- {hosts: [api.other.com], ports: [80]}"),
            Se("se", "api.other.com", ports: "[{number: 80, name: http, protocol: HTTP}]"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Fact]
    public void Egw301_SeveralPortsRefused_OneFindingPerField()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom),
            Se("se", "api.other.com", ports: "[{number: 443, name: tls, protocol: TLS}, {number: 8443, name: tls2, protocol: TLS}]"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed));
        Assert.StartsWith("api.other.com:443/TLS", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw301_OnePortOfSeveralRefused_NamesThatPort()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom),
            Se("se", "api.example.com", ports: "[{number: 443, name: tls, protocol: TLS}, {number: 8443, name: tls2, protocol: TLS}]"));

        Assert.StartsWith("api.example.com:8443/TLS", Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw301_EntryWithoutPorts_NamesTheHostAlone()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("se", "api.other.com", ports: "[]"));

        Assert.StartsWith("api.other.com not allowed", Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw301_ClusterLocalHost_IsNotExternal()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Se("se", "db.team-a.svc.cluster.local", ports: "[{number: 5432, name: tcp, protocol: TCP}]"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Fact]
    public void Egw301_TwoPolicies_EachRefusingOneReportsItsOwnFinding()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), PolicyYaml("only-api", "allow: [{hosts: [api.example.com]}]"),
            Se("www", "www.example.com"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed));
        Assert.Equal("only-api", finding.Policy);
        Assert.EndsWith("extend EgressPolicy only-api", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw301_TwoPoliciesBothRefusing_TwoFindingsWithTheirOwnActions()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), PolicyYaml("warn-api", "action: Warn\nallow: [{hosts: [api.example.com]}]"),
            Se("other", "api.other.com"));

        var findings = Of(report, RuleIds.PolicyHostNotAllowed).OrderBy(f => f.Policy, StringComparer.Ordinal).ToList();
        Assert.Equal(["allow-list", "warn-api"], findings.Select(f => f.Policy));
        Assert.Equal([Severity.Error, Severity.Warning], findings.Select(f => f.Severity));
    }

    [Theory]
    [InlineData("Warn", Severity.Warning, false)]
    [InlineData("Audit", Severity.Warning, true)]
    [InlineData("deny", Severity.Error, false)] // actions are case-insensitive
    public void Egw301_PolicyAction_SetsSeverityAndAudit(string action, Severity severity, bool audit)
    {
        var report = Check(PolicyYaml("allow-list", $"action: {action}\n{AllowExampleCom}"), Se("other", "api.other.com"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed));
        Assert.Equal(severity, finding.Severity);
        Assert.Equal(audit, finding.Audit);
    }

    [Fact]
    public void Egw301_PolicyWithoutAllow_RestrictsNoHost()
    {
        var report = Check(PolicyYaml("exports", "exportTo: {allowed: [\"*\"]}"), Se("other", "api.other.com"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Fact]
    public void Egw301_EmptyAllowList_AllowsNothing()
    {
        var report = Check(PolicyYaml("closed", "allow: []"), Se("api", "api.example.com"));

        Assert.Contains("(allows nothing)", Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw301_InvalidPolicy_IsNotEnforced()
    {
        // a bad glob is EGW308's; the policy is then not enforced at all
        var report = Check(PolicyYaml("broken", "allow: [{hosts: [\"api.*.com\"]}]"), Se("other", "api.other.com"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
        Assert.NotEmpty(Of(report, RuleIds.PolicyInvalid));
    }

    [Theory]
    [InlineData("{tier: restricted}", true)]
    [InlineData("{tier: open}", false)]
    public void Egw301_SelectorOnNamespaceLabels_SelectsByTheNamespaceObject(string labels, bool fires)
    {
        var policy = """
            apiVersion: egress.webhook.dev/v1alpha1
            kind: EgressPolicy
            metadata: {name: restricted}
            spec:
              namespaceSelector: {matchLabels: {tier: restricted}}
              allow: [{hosts: ["*.example.com"]}]
            """;

        var report = Check(policy, Namespace(Team, labels), Se("other", "api.other.com"));

        Assert.Equal(fires, Of(report, RuleIds.PolicyHostNotAllowed).Count == 1);
    }

    [Fact]
    public void Egw301_PolicyWithoutSelector_SelectsEveryNamespace()
    {
        var report = Check(PolicyYaml("everyone", AllowExampleCom, ns: null), Se("other", "api.other.com", ns: "team-z"));

        Assert.Equal(new ObjectRef("ServiceEntry", "team-z", "other"), Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed)).Object);
    }

    [Fact]
    public void Egw301_VirtualService_HostAndRouteDestinationAreJudged()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Vs("vs", "api.other.com", "www.other.com"));

        var findings = Of(report, RuleIds.PolicyHostNotAllowed);
        Assert.Equal(["spec.hosts[0]", "spec.tls[0].route[0].destination.host"], findings.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(findings, f => Assert.Equal(new ObjectRef("VirtualService", Team, "vs"), f.Object));
        // the destination names its port
        Assert.Contains(findings, f => f.Message.StartsWith("www.other.com:443 not allowed", StringComparison.Ordinal));
    }

    [Fact]
    public void Egw301_VirtualServiceToTheEgressGateway_OnlyTheExternalHostCounts()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Vs("vs", "api.example.com", "istio-egressgateway.istio-system.svc.cluster.local"));

        Assert.Empty(Of(report, RuleIds.PolicyHostNotAllowed));
    }

    [Fact]
    public void Egw301_DestinationRuleHost_IsJudged()
    {
        var report = Check(PolicyYaml("allow-list", AllowExampleCom), Dr("dr", "api.other.com"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyHostNotAllowed));
        Assert.Equal(new ObjectRef("DestinationRule", Team, "dr"), finding.Object);
        Assert.Equal("spec.host", finding.Path);
    }
}
