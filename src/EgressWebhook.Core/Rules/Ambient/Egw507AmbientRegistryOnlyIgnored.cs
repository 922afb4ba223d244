using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW507: <c>outboundTrafficPolicy.mode: REGISTRY_ONLY</c> (mesh config, or a Sidecar of an ambient namespace)
/// where ambient namespaces expect it to block unregistered egress.</summary>
/// <remarks>The outbound traffic policy is an Envoy sidecar setting: ztunnel does not read it, and an ambient pod has no
/// sidecar for a Sidecar resource to scope, so unregistered hosts stay reachable from ambient namespaces (istio/istio#54281,
/// #58644; Istio's ambient egress page points at waypoint AuthorizationPolicies and NetworkPolicies instead). Warning:
/// sidecar namespaces of the same mesh still get the block.</remarks>
internal sealed class Egw507AmbientRegistryOnlyIgnored : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.AmbientRegistryOnlyIgnored];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.MeshConfig or ResourceKind.Sidecar;

    public void Check(EgressObject subject, RuleContext context)
    {
        switch (subject)
        {
            case MeshConfig mesh when mesh.Problem is null && mesh.EffectiveOutboundPolicy == OutboundPolicies.RegistryOnly:
                var ambient = Waypoints.AmbientNamespaces(context.View);
                if (ambient.Count > 0)
                {
                    var root = mesh.ApiVersion == "v1" ? "data.mesh" : "spec.meshConfig";
                    var more = ambient.Count > 1 ? $" (+{ambient.Count - 1})" : "";
                    context.Report(RuleIds.AmbientRegistryOnlyIgnored, Severity.Warning, mesh, $"{root}.outboundTrafficPolicy.mode",
                        $"ztunnel ignores REGISTRY_ONLY: ambient namespace {ambient[0]}{more} still reaches any host; deny egress with a waypoint policy");
                }

                break;
            case Sidecar sidecar when OutboundPolicies.Parse(sidecar.Spec.OutboundTrafficPolicy?.Mode) == OutboundPolicies.RegistryOnly
                                      && Waypoints.IsAmbientNamespace(context.View, sidecar.Namespace):
                context.Report(RuleIds.AmbientRegistryOnlyIgnored, Severity.Warning, sidecar, "spec.outboundTrafficPolicy.mode",
                    $"namespace {sidecar.Namespace} is ambient: no sidecar applies this REGISTRY_ONLY; deny egress with a waypoint policy");
                break;
        }
    }

    /// <summary>A Namespace turning ambient (or back) changes what the mesh config and its Sidecars promise.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Namespace ns
            ? view.OfKind<MeshConfig>(ResourceKind.MeshConfig).Cast<EgressObject>().Concat(view.OfKind<Sidecar>(ResourceKind.Sidecar).Where(s => s.Namespace == ns.Name))
            : [];
}
