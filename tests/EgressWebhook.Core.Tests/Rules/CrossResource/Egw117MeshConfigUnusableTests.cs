using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW117: a mesh config Istio cannot load, and the defaults every other rule then reads.</summary>
public sealed class Egw117MeshConfigUnusableTests
{
    /// <summary>ConfigMap <c>istio-system/istio</c> with <paramref name="mesh"/> (lines at the mesh's own indentation) as <c>data.mesh</c>.</summary>
    private static string ConfigMap(params string[] mesh) => RuleChecks.Mesh(string.Join('\n', mesh));

    private static string Operator(params string[] meshConfig) => string.Join('\n',
    [
        "apiVersion: install.istio.io/v1alpha1",
        "kind: IstioOperator",
        "metadata: {name: control-plane, namespace: istio-system}",
        "spec:",
        "  meshConfig:",
        .. meshConfig.Select(l => "    " + l),
    ]);

    [Fact]
    public void Egw117_ModeTypo_IsAnErrorOnTheModeNamingTheValue()
    {
        // istio/istio#16472
        var report = Check(ConfigMap("outboundTrafficPolicy:", "  mode: REGISTER_ONLY"));

        var finding = Assert.Single(Of(report, RuleIds.MeshConfigUnusable));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("MeshConfig", "", "istio"), finding.Object);
        Assert.Equal("data.mesh.outboundTrafficPolicy.mode", finding.Path);
        Assert.Equal("unknown mode REGISTER_ONLY: Istio drops the whole config (egress stays ALLOW_ANY); use REGISTRY_ONLY", finding.Message);
    }

    [Theory]
    [InlineData("REGISTRY_ONLY")]
    [InlineData("ALLOW_ANY")]
    [InlineData("ALLOW_ANY_DYNAMIC_DNS")] // Istio 1.31
    public void Egw117_ModeIstioHas_IsSilent(string mode)
    {
        var report = Check(ConfigMap("outboundTrafficPolicy:", $"  mode: {mode}"));

        Assert.Empty(Of(report, RuleIds.MeshConfigUnusable));
    }

    [Theory]
    [InlineData("registry_only", "write REGISTRY_ONLY")] // Istio's enums are case-sensitive
    [InlineData("Allow_Any", "write ALLOW_ANY")]
    [InlineData("REGISTRYONLY", "use REGISTRY_ONLY")]
    [InlineData("BLOCK", "use ALLOW_ANY or REGISTRY_ONLY")]
    public void Egw117_UnknownMode_FixFitsTheValue(string mode, string fix)
    {
        var report = Check(ConfigMap("outboundTrafficPolicy:", $"  mode: {mode}"));

        var finding = Assert.Single(Of(report, RuleIds.MeshConfigUnusable));
        Assert.EndsWith("; " + fix, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw117_MeshThatIsNotYaml_PointsAtDataMesh()
    {
        var report = Check(ConfigMap("outboundTrafficPolicy:", "  mode: REGISTRY_ONLY", " defaultConfig: ["));

        var finding = Assert.Single(Of(report, RuleIds.MeshConfigUnusable));
        Assert.Equal("data.mesh", finding.Path);
        Assert.EndsWith("; fix the YAML", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw117_IstioOperatorFieldOfTheWrongType_PointsUnderSpecMeshConfig()
    {
        var report = Check(Operator("outboundTrafficPolicy: REGISTRY_ONLY"));

        // an IstioOperator is read as the mesh config it carries (the golden cases name it so)
        var finding = Assert.Single(Of(report, RuleIds.MeshConfigUnusable));
        Assert.Equal(new ObjectRef("MeshConfig", "", "control-plane"), finding.Object);
        Assert.Equal("spec.meshConfig.outboundTrafficPolicy", finding.Path);
        Assert.EndsWith("; fix outboundTrafficPolicy", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw117_IstioOperatorModeTypo_PointsAtTheMode()
    {
        var report = Check(Operator("outboundTrafficPolicy:", "  mode: REGISTER_ONLY"));

        Assert.Equal("spec.meshConfig.outboundTrafficPolicy.mode", Assert.Single(Of(report, RuleIds.MeshConfigUnusable)).Path);
    }

    [Fact]
    public void Egw117_UnknownVisibility_NamesTheVisibilityField()
    {
        var report = Check(ConfigMap("serviceEntryVisibility:", "  defaultVisibility: PUBLIC", "  policies:", "  - visibility: SECRET", "    matchingRules: []"));

        var finding = Assert.Single(Of(report, RuleIds.MeshConfigUnusable));
        Assert.Equal("data.mesh.serviceEntryVisibility.policies[0].visibility", finding.Path);
        Assert.StartsWith("unknown visibility SECRET", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw117_RejectedConfig_OtherRulesReadTheDefaultAllowAny()
    {
        // an unregistered destination is an error under REGISTRY_ONLY, but Istio runs with ALLOW_ANY: a warning
        var vs = Vs("api.example.com", "api.example.org");
        var typo = Check(ConfigMap("outboundTrafficPolicy:", "  mode: REGISTER_ONLY"), Se("api", "api.example.com"), vs);
        var valid = Check(ConfigMap("outboundTrafficPolicy:", "  mode: REGISTRY_ONLY"), Se("api", "api.example.com"), vs);

        Assert.Equal(Severity.Warning, Assert.Single(Of(typo, RuleIds.DestinationHostNotRegistered)).Severity);
        Assert.Equal(Severity.Error, Assert.Single(Of(valid, RuleIds.DestinationHostNotRegistered)).Severity);
    }

    [Fact]
    public void Egw117_IstioOperatorMeshConfigThatIsNoObject_PointsAtSpecMeshConfig()
    {
        const string op = """
            apiVersion: install.istio.io/v1alpha1
            kind: IstioOperator
            metadata: {name: control-plane, namespace: istio-system}
            spec:
              meshConfig: REGISTRY_ONLY
            """;

        var finding = Assert.Single(Of(Check(op), RuleIds.MeshConfigUnusable));

        Assert.Equal("spec.meshConfig", finding.Path);
        Assert.Equal("meshConfig is not an object: Istio drops the whole config (egress stays ALLOW_ANY); fix the YAML", finding.Message);
    }
}
