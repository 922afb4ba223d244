using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW505: a policy or DestinationRule that names a ServiceEntry by its host where its name is meant (or the reverse).</summary>
public sealed class Egw505PolicyTargetNotFoundTests
{
    /// <summary>An AuthorizationPolicy of <c>istio-egress</c> whose <c>targetRefs</c> name <paramref name="target"/>.</summary>
    private static string Policy(string target, string kind = "ServiceEntry", string group = "networking.istio.io", string ns = "istio-egress") => $$"""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: httpbin-get, namespace: {{ns}}}
        spec:
          targetRefs:
          - {kind: {{kind}}, group: {{group}}, name: "{{target}}"}
          action: ALLOW
          rules:
          - to:
            - operation: {methods: ["GET"]}
        """;

    private static string Dr(string host, string ns = "istio-egress") => $$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: httpbin, namespace: {{ns}}}
        spec:
          host: "{{host}}"
          trafficPolicy:
            tls: {mode: SIMPLE}
        """;

    [Fact]
    public void Egw505_PolicyTargetingTheEntrysName_IsSilent()
    {
        var report = Check([.. EgressSetup(), Entry(), Policy("httpbin-org")]);

        Assert.Empty(Of(report, RuleIds.PolicyTargetNotFound));
    }

    [Fact]
    public void Egw505_PolicyTargetingTheHost_IsAnErrorSuggestingTheName()
    {
        var report = Check([.. EgressSetup(), Entry(), Policy("httpbin.org")]);

        var finding = Assert.Single(Of(report, RuleIds.PolicyTargetNotFound));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("AuthorizationPolicy", "istio-egress", "httpbin-get"), finding.Object);
        Assert.Equal("spec.targetRefs[0].name", finding.Path);
        Assert.Equal("no ServiceEntry istio-egress/httpbin.org: the policy applies nowhere; use its name httpbin-org (host httpbin.org)", finding.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org")], finding.Related);
        Assert.Equal(new ObjectKey(ResourceKind.ServiceEntry, "istio-egress", "httpbin.org"), finding.Awaits?.Key);
    }

    [Fact]
    public void Egw505_PolicyTargetingNothingKnown_SaysCreateIt()
    {
        var report = Check([.. EgressSetup(), Entry(), Policy("httpbin")]);

        var finding = Assert.Single(Of(report, RuleIds.PolicyTargetNotFound));
        Assert.EndsWith("the policy applies nowhere; create it or fix the name", finding.Message, StringComparison.Ordinal);
        Assert.Empty(finding.Related);
    }

    [Fact]
    public void Egw505_EntryOfThatNameInAnotherNamespace_DoesNotCount()
    {
        // targetRefs name objects of the policy's namespace only
        var report = Check([.. EgressSetup(), Entry(ns: "team-a"), Policy("httpbin-org")]);

        var finding = Assert.Single(Of(report, RuleIds.PolicyTargetNotFound));
        Assert.StartsWith("no ServiceEntry istio-egress/httpbin-org", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("create it or fix the name", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw505_TargetedEntryBoundToNoWaypoint_WarnsThatNothingEnforcesThePolicy()
    {
        var report = Check(AmbientNamespace("istio-egress"), Entry(), Policy("httpbin-org"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyTargetNotFound));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("spec.targetRefs[0].name", finding.Path);
        // whole: the reason is not shortened away
        Assert.Equal("ServiceEntry istio-egress/httpbin-org has no waypoint: nothing enforces this policy; label it istio.io/use-waypoint", finding.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org")], finding.Related);
    }

    [Theory]
    [InlineData("Gateway", "gateway.networking.k8s.io")] // a waypoint target is not judged here
    [InlineData("ServiceEntry", "networking.x-k8s.io")]
    public void Egw505_TargetThatIsNoServiceEntry_IsNotJudged(string kind, string group)
    {
        var report = Check([.. EgressSetup(), Entry(), Policy("httpbin.org", kind, group)]);

        Assert.Empty(Of(report, RuleIds.PolicyTargetNotFound));
    }

    [Fact]
    public void Egw505_SingleTargetRef_IsCheckedToo()
    {
        var single = Policy("httpbin.org").Replace("  targetRefs:\n  - {", "  targetRef: {", StringComparison.Ordinal);

        var report = Check([.. EgressSetup(), Entry(), single]);

        Assert.Equal("spec.targetRef.name", Assert.Single(Of(report, RuleIds.PolicyTargetNotFound)).Path);
    }

    [Fact]
    public void Egw505_DestinationRuleHostThatIsTheEntrysName_WarnsWithItsHost()
    {
        var report = Check([.. EgressSetup(), Entry(), Dr("httpbin-org")]);

        var finding = Assert.Single(Of(report, RuleIds.PolicyTargetNotFound));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("DestinationRule", "istio-egress", "httpbin"), finding.Object);
        Assert.Equal("spec.host", finding.Path);
        Assert.Equal("httpbin-org names ServiceEntry istio-egress/httpbin-org, not one of its hosts; use its host httpbin.org", finding.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "istio-egress", "httpbin-org")], finding.Related);
    }

    [Theory]
    [InlineData("httpbin.org", "istio-egress")] // the host, as meant
    [InlineData("httpbin-org", "team-a")] // no entry of that name in the rule's namespace
    [InlineData("httpbin", "istio-egress")] // no entry of that name
    [InlineData("*.org", "istio-egress")]
    public void Egw505_DestinationRuleHost_NearMisses(string host, string ns)
    {
        var report = Check([.. EgressSetup(), Entry(), Dr(host, ns)]);

        Assert.Empty(Of(report, RuleIds.PolicyTargetNotFound));
    }

    [Fact]
    public void Egw505_DestinationRuleShortNameOfAService_IsAHost()
    {
        // a Service httpbin-org in istio-egress makes the short name a real host, whatever the entry is called
        const string service = """
            apiVersion: v1
            kind: Service
            metadata: {name: httpbin-org, namespace: istio-egress}
            spec:
              ports: [{name: http, port: 80}]
            """;

        var report = Check([.. EgressSetup(), Entry(), service, Dr("httpbin-org")]);

        Assert.Empty(Of(report, RuleIds.PolicyTargetNotFound));
    }

    [Fact]
    public void Egw505_EntryCreatedUnbound_ReportsThePolicyThatTargetsIt()
    {
        var report = CheckChange(Entry(), AmbientNamespace("istio-egress"), Policy("httpbin-org"));

        var finding = Assert.Single(Of(report, RuleIds.PolicyTargetNotFound));
        Assert.Equal(new ObjectRef("AuthorizationPolicy", "istio-egress", "httpbin-get"), finding.Object);
        Assert.Equal(Severity.Warning, finding.Severity);
    }
}
