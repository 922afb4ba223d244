using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Ambient.AmbientFixtures;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>EGW507: REGISTRY_ONLY (mesh-wide or in a Sidecar) that ambient namespaces do not get.</summary>
public sealed class Egw507AmbientRegistryOnlyIgnoredTests
{
    private static string Mesh(string mode) => RuleChecks.Mesh($"outboundTrafficPolicy:\n  mode: {mode}");

    private static string Sidecar(string ns, string mode) => $$"""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: {{ns}}}
        spec:
          outboundTrafficPolicy: {mode: {{mode}}}
        """;

    [Fact]
    public void Egw507_MeshRegistryOnlyWithAnAmbientNamespace_WarnsOnTheMode()
    {
        var report = Check(Mesh("REGISTRY_ONLY"), AmbientNamespace("default"));

        var finding = Assert.Single(Of(report, RuleIds.AmbientRegistryOnlyIgnored));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("MeshConfig", "", "istio"), finding.Object);
        Assert.Equal("data.mesh.outboundTrafficPolicy.mode", finding.Path);
        Assert.Equal("ztunnel ignores REGISTRY_ONLY: ambient namespace default still reaches any host; deny egress with a waypoint policy", finding.Message);
    }

    [Fact]
    public void Egw507_SidecarNamespacesOnly_GetTheBlock()
    {
        var report = Check(Mesh("REGISTRY_ONLY"), Namespace("default", "{istio-injection: enabled}"));

        Assert.Empty(Of(report, RuleIds.AmbientRegistryOnlyIgnored));
    }

    [Theory]
    [InlineData("ALLOW_ANY")]
    [InlineData("REGISTER_ONLY")] // a config Istio rejects runs ALLOW_ANY: EGW117's
    public void Egw507_NoRegistryOnlyInEffect_IsSilent(string mode)
    {
        var report = Check(Mesh(mode), AmbientNamespace("default"));

        Assert.Empty(Of(report, RuleIds.AmbientRegistryOnlyIgnored));
    }

    [Fact]
    public void Egw507_IstioOperator_PointsUnderSpecMeshConfig()
    {
        const string op = """
            apiVersion: install.istio.io/v1alpha1
            kind: IstioOperator
            metadata: {name: control-plane, namespace: istio-system}
            spec:
              meshConfig:
                outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            """;

        var report = Check(op, AmbientNamespace("default"), AmbientNamespace("team-a"));

        var finding = Assert.Single(Of(report, RuleIds.AmbientRegistryOnlyIgnored));
        Assert.Equal("spec.meshConfig.outboundTrafficPolicy.mode", finding.Path);
        Assert.Contains("ambient namespace default (+1) still", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("REGISTRY_ONLY")]
    [InlineData("registry_only")] // a Sidecar's mode is read case-insensitively
    public void Egw507_SidecarRegistryOnlyInAnAmbientNamespace_WarnsOnTheSidecar(string mode)
    {
        var report = Check(AmbientNamespace("team-a"), Sidecar("team-a", mode));

        var finding = Assert.Single(Of(report, RuleIds.AmbientRegistryOnlyIgnored));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(new ObjectRef("Sidecar", "team-a", "default"), finding.Object);
        Assert.Equal("spec.outboundTrafficPolicy.mode", finding.Path);
        Assert.Equal("namespace team-a is ambient: no sidecar applies this REGISTRY_ONLY; deny egress with a waypoint policy", finding.Message);
    }

    [Theory]
    [InlineData("team-b", "REGISTRY_ONLY")] // the Sidecar's namespace runs sidecars
    [InlineData("team-a", "ALLOW_ANY")]
    public void Egw507_Sidecar_NearMisses(string ns, string mode)
    {
        var report = Check(AmbientNamespace("team-a"), Namespace("team-b"), Sidecar(ns, mode));

        Assert.Empty(Of(report, RuleIds.AmbientRegistryOnlyIgnored));
    }

    [Fact]
    public void Egw507_NamespaceTurningAmbient_ReportsTheMeshConfigAndItsSidecar()
    {
        var report = CheckChange(AmbientNamespace("team-a"), Mesh("REGISTRY_ONLY"), Namespace("team-a"), Sidecar("team-a", "REGISTRY_ONLY"));

        Assert.Equal(["MeshConfig", "Sidecar"], Of(report, RuleIds.AmbientRegistryOnlyIgnored).Select(f => f.Object.Kind).Order());
    }
}
