using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW117: a mesh config (ConfigMap <c>istio-system/istio</c> key <c>mesh</c>, or an IstioOperator's
/// <c>spec.meshConfig</c>) that Istio cannot load: YAML that does not parse, a field of the wrong type, or an enum value
/// Istio does not have (<c>outboundTrafficPolicy.mode: REGISTER_ONLY</c>, istio/istio#16472).</summary>
/// <remarks>Istio parses the mesh config as a whole (YAML to its protobuf, enums by exact name): one bad field and it
/// keeps its defaults (or, on an update, the last config it could load), so <c>REGISTRY_ONLY</c> never takes effect and
/// egress stays open. Every other rule then reads the mesh config Istio runs with, its defaults
/// (<see cref="MeshConfig.Effective"/>): severities that depend on the outbound mode are those of ALLOW_ANY.</remarks>
internal sealed class Egw117MeshConfigUnusable : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.MeshConfigUnusable];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.MeshConfig;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not MeshConfig { Problem: { } problem } mesh)
        {
            return;
        }

        var root = mesh.ApiVersion == "v1" ? "data.mesh" : "spec.meshConfig";
        var path = problem.Field.Length == 0 ? root : $"{root}.{problem.Field}";
        context.Report(RuleIds.MeshConfigUnusable, Severity.Error, mesh, path,
            $"{problem.Message}: Istio drops the whole config (egress stays ALLOW_ANY); {Fix(mesh, problem)}");
    }

    private static string Fix(MeshConfig mesh, MeshConfigProblem problem)
    {
        if (problem.Field == "outboundTrafficPolicy.mode" && mesh.OutboundTrafficPolicy?.Mode is { } mode)
        {
            return OutboundPolicies.Parse(mode) is { } same ? $"write {same}"
                : mode.Contains("ONLY", System.StringComparison.OrdinalIgnoreCase) ? "use REGISTRY_ONLY" : "use ALLOW_ANY or REGISTRY_ONLY";
        }

        return problem.Field.Length == 0 ? "fix the YAML" : $"fix {problem.Field}";
    }
}
