using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW306: a Sidecar's egress.hosts under ALLOW_ANY is no security boundary; at most a warning.</summary>
public sealed class Egw306SidecarHostsNoBoundaryTests
{
    private static readonly string GuardSidecars = PolicyYaml("sidecars", "sidecar: {}");

    private static List<Finding> Egw306(EgressReport report) => Of(report, RuleIds.PolicySidecarHostsNoBoundary);

    [Fact]
    public void Egw306_EgressHostsUnderAllowAny_IsAWarningEvenForADenyPolicy()
    {
        var report = Check(GuardSidecars, Sidecar("[\"./*\", \"istio-system/*\"]"));

        var finding = Assert.Single(Egw306(report));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("Sidecar", Team, "default"), finding.Object);
        Assert.Equal("spec.egress", finding.Path);
        Assert.Equal("egress.hosts is no boundary under ALLOW_ANY (istio#41243); use REGISTRY_ONLY (EgressPolicy sidecars)", finding.Message);
        Assert.Equal("sidecars", finding.Policy);
    }

    [Fact]
    public void Egw306_NearMiss_MeshRegistryOnly()
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]"));

        Assert.Empty(Egw306(report));
    }

    [Fact]
    public void Egw306_NearMiss_SidecarSetsRegistryOnly()
    {
        var report = Check(GuardSidecars, Sidecar("[\"./*\"]", "REGISTRY_ONLY"));

        Assert.Empty(Egw306(report));
    }

    [Fact]
    public void Egw306_SidecarSetsAllowAnyUnderRegistryOnlyMesh_ItsOwnModeDecides()
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        Assert.Contains("under ALLOW_ANY", Assert.Single(Egw306(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw306_NearMiss_OnlyStarStar_RestrictsNothing()
    {
        var report = Check(GuardSidecars, Sidecar("[\"*/*\"]"));

        Assert.Empty(Egw306(report));
    }

    [Theory]
    [InlineData("sidecar: {reportEgressHostsUnderAllowAny: false}", false)]
    [InlineData("sidecar: {reportEgressHostsUnderAllowAny: true}", true)]
    [InlineData("sidecar: {forbidAllowAny: false}", true)] // the other switch
    [InlineData("wildcards: {forbid: true}", false)] // no sidecar guard
    public void Egw306_PolicySwitch(string spec, bool fires)
    {
        var report = Check(PolicyYaml("p", spec), Sidecar("[\"./*\"]"));

        Assert.Equal(fires, Egw306(report).Count == 1);
    }

    [Fact]
    public void Egw306_AuditPolicy_IsRecordedOnly()
    {
        var report = Check(PolicyYaml("sidecars", "action: Audit\nsidecar: {}"), Sidecar("[\"./*\"]"));

        var finding = Assert.Single(Egw306(report));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.True(finding.Audit);
    }

    [Fact]
    public void Egw306_NearMiss_SidecarOfAnotherNamespace()
    {
        var report = Check(GuardSidecars, Sidecar("[\"./*\"]", ns: "team-b"));

        Assert.Empty(Egw306(report));
    }
}
