using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW307: a ServiceEntry with <c>location: MESH_INTERNAL</c> names a host that is not a cluster service (a
/// cluster-local name that a Kubernetes Service registers), has no <c>workloadSelector</c>, in a namespace whose
/// EgressPolicy sets <c>spec.meshInternal.requireClusterService</c>.</summary>
/// <remarks>MESH_INTERNAL tells Istio the endpoints are in the mesh: mTLS is expected and the host is not treated as
/// egress, so an external host registered that way skips every egress rule, the egress gateway included. A
/// ServiceEntry with a <c>workloadSelector</c> selects the mesh's own pods and is a legitimate MESH_INTERNAL entry.</remarks>
internal sealed class Egw307MeshInternalHost : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyMeshInternalHost];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        if (subject is not ServiceEntry se || se.Spec.WorkloadSelector is not null ||
            !string.Equals(se.Spec.EffectiveLocation, Locations.MeshInternal, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        foreach (var policy in context.Policies.Selecting(se.Namespace))
        {
            if (policy.Spec.MeshInternal is not { RequireClusterService: true })
            {
                continue;
            }

            for (var i = 0; i < se.Spec.Hosts.Count; i++)
            {
                var host = HostName.Resolve(se.Spec.Hosts[i], se.Namespace);
                if (HostName.IsClusterLocal(host) && context.View.Services(host).Count > 0)
                {
                    continue;
                }

                context.ReportPolicy(policy, null, RuleIds.PolicyMeshInternalHost, se, $"spec.hosts[{i}]",
                    $"{host} is MESH_INTERNAL, no cluster Service: skips egress rules; use MESH_EXTERNAL (EgressPolicy {policy.Name})");
                break;
            }
        }
    }
}
