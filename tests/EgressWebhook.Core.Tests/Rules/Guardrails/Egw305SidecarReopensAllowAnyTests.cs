using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW305: a Sidecar re-opening ALLOW_ANY under a REGISTRY_ONLY mesh, where the policy guards Sidecars.</summary>
public sealed class Egw305SidecarReopensAllowAnyTests
{
    private static readonly string GuardSidecars = PolicyYaml("sidecars", "sidecar: {}");

    private static List<Finding> Egw305(EgressReport report) => Of(report, RuleIds.PolicySidecarAllowAny);

    [Fact]
    public void Egw305_AllowAnyUnderRegistryOnly_IsAnErrorOnTheMode()
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        var finding = Assert.Single(Egw305(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("Sidecar", Team, "default"), finding.Object);
        Assert.Equal("spec.outboundTrafficPolicy.mode", finding.Path);
        Assert.Equal("ALLOW_ANY re-opens passthrough under REGISTRY_ONLY; remove it, register the hosts (EgressPolicy sidecars)", finding.Message);
        Assert.Equal("sidecars", finding.Policy);
    }

    [Fact]
    public void Egw305_NearMiss_SidecarRegistryOnly()
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]", "REGISTRY_ONLY"));

        Assert.Empty(Egw305(report));
    }

    [Fact]
    public void Egw305_NearMiss_SidecarWithoutAMode()
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]"));

        Assert.Empty(Egw305(report));
    }

    [Fact]
    public void Egw305_NearMiss_MeshAllowAny()
    {
        // the mesh default (unset) is ALLOW_ANY: the Sidecar re-opens nothing
        var report = Check(GuardSidecars, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        Assert.Empty(Egw305(report));
    }

    [Theory]
    [InlineData("ALLOW_ANY_DYNAMIC_DNS")]
    [InlineData("allow_any")]
    public void Egw305_AllowAnyVariants_Fire(string mode)
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]", mode));

        Assert.StartsWith($"{mode} re-opens passthrough", Assert.Single(Egw305(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw305_RegistryOnlyFromTheSettings_CountsAsTheMeshMode()
    {
        var report = Check(RuleSettings.Default with { OutboundPolicy = "REGISTRY_ONLY" }, GuardSidecars, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        Assert.Single(Egw305(report));
    }

    [Theory]
    [InlineData("sidecar: {forbidAllowAny: false}")]
    [InlineData("allow: [{hosts: [\"*.example.com\"]}]")] // no sidecar guard
    public void Egw305_NearMiss_PolicyDoesNotForbidIt(string spec)
    {
        var report = Check(PolicyYaml("lenient", spec), RegistryOnly, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        Assert.Empty(Egw305(report));
    }

    [Fact]
    public void Egw305_ForbidAllowAnyTrue_Fires()
    {
        var report = Check(PolicyYaml("strict", "sidecar: {forbidAllowAny: true}"), RegistryOnly, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        Assert.Single(Egw305(report));
    }

    [Fact]
    public void Egw305_NearMiss_SidecarOfAnotherNamespace()
    {
        var report = Check(GuardSidecars, RegistryOnly, Sidecar("[\"./*\"]", "ALLOW_ANY", ns: "team-b"));

        Assert.Empty(Egw305(report));
    }

    [Fact]
    public void Egw305_WarnPolicy_IsAWarning()
    {
        var report = Check(PolicyYaml("sidecars", "action: Warn\nsidecar: {}"), RegistryOnly, Sidecar("[\"./*\"]", "ALLOW_ANY"));

        Assert.Equal(Severity.Warning, Assert.Single(Egw305(report)).Severity);
    }
}
