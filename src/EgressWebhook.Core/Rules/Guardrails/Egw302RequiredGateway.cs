using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW302: the required egress path. In a namespace whose EgressPolicy names <c>spec.requiredGateway</c> (the
/// egress gateway Service <c>ns/name</c>), (a) every MESH_EXTERNAL ServiceEntry host must be routed through it: a mesh
/// VirtualService exported to the entry's namespace sends the host to the gateway Service, and a VirtualService bound
/// to a Gateway that selects that Service's pods forwards it; (b) a VirtualService of the sidecars (bound to
/// <c>mesh</c>) must not route an external host directly, around the gateway.</summary>
/// <remarks>(a) rests on routing that a later write of the same apply (or the generator) may create: admission admits it
/// as a warning and re-checks after the grace period. Traffic that has no route through the gateway leaves the sidecar
/// directly (PassthroughCluster or the entry's own cluster), which is exactly what the policy exists to prevent.</remarks>
internal sealed class Egw302RequiredGateway : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyRequiredGateway];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.VirtualService, ResourceKind.Gateway];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.ServiceEntry or ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        foreach (var policy in context.Policies.Selecting(subject.Namespace))
        {
            if (PolicySet.SplitRef(policy.Spec.RequiredGateway) is not { } gw)
            {
                continue;
            }

            var gwHost = $"{gw.Name}.{gw.Namespace}.{HostName.ClusterDomain}";
            var gwRef = $"{gw.Namespace}/{gw.Name}";
            if (subject is ServiceEntry se)
            {
                CheckEntry(se, policy, gw, gwHost, gwRef, context);
            }
            else if (subject is VirtualService vs)
            {
                CheckMeshRoutes(vs, policy, gwRef, gwHost, context);
            }
        }
    }

    private static void CheckEntry(ServiceEntry se, EgressPolicy policy, (string Namespace, string Name) gw, string gwHost, string gwRef, RuleContext context)
    {
        if (!string.Equals(se.Spec.EffectiveLocation, Locations.MeshExternal, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var service = context.View.Find(new ObjectKey(ResourceKind.Service, gw.Namespace, gw.Name)) as Service;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < se.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(se.Spec.Hosts[i], se.Namespace);
            if (HostName.IsClusterLocal(host) || !seen.Add(host))
            {
                continue;
            }

            context.View.Budget.ThrowIfCancellationRequested();
            var candidates = context.View.VirtualServices(host);
            var meshLeg = candidates.Any(m => context.IsExportedTo(m.Item, se.Namespace) &&
                                               context.DestinationsOf(m.Item).Any(d => d.Host == gwHost && d.Gateways.Contains(GatewayRefs.Mesh)));
            var gatewayLeg = service is not null && candidates.Any(m => context.DestinationsOf(m.Item).Any(d =>
                d.Gateways.Any(g => g != GatewayRefs.Mesh && context.View.Gateway(g) is { } gateway && SnapshotView.Selects(gateway, service))));
            if (meshLeg && gatewayLeg)
            {
                continue;
            }

            var missing = meshLeg ? $"the gateway leg of {host} on {gwRef}" : $"a mesh route of {host} to {gwRef}";
            context.ReportPolicy(policy, new Awaited(ResourceKind.VirtualService, missing), RuleIds.PolicyRequiredGateway, se, $"spec.hosts[{i}]",
                $"{host} has {(meshLeg ? "no gateway leg on" : "no mesh route to")} {gwRef}; route it via the gateway (EgressPolicy {policy.Name})");
        }
    }

    private static void CheckMeshRoutes(VirtualService vs, EgressPolicy policy, string gwRef, string gwHost, RuleContext context)
    {
        foreach (var d in context.DestinationsOf(vs))
        {
            if (d.Host == gwHost || HostName.IsClusterLocal(d.Host) || !d.Gateways.Contains(GatewayRefs.Mesh))
            {
                continue;
            }

            // a host registered only as MESH_INTERNAL is not egress (EGW307 judges that registration)
            var entries = context.VisibleServiceEntries(d.Host, vs.Namespace, false);
            if (entries.Count > 0 && entries.All(m => string.Equals(m.Item.Spec.EffectiveLocation, Locations.MeshInternal, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            context.ReportPolicy(policy, null, RuleIds.PolicyRequiredGateway, vs, d.Path + ".host",
                $"sidecars route {d.Host} around {gwRef}; route it via the gateway (EgressPolicy {policy.Name})");
        }
    }
}
