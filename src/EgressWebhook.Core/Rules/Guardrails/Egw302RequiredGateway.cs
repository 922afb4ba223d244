using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW302: the required egress path. In a namespace whose EgressPolicy names <c>spec.requiredGateway</c> (the
/// egress gateway Service <c>ns/name</c>), (a) every MESH_EXTERNAL ServiceEntry host must be routed through it: a mesh
/// VirtualService exported to the entry's namespace sends the host to the gateway Service, and a VirtualService bound
/// to a Gateway that selects that Service's pods forwards it; (b) a VirtualService of the sidecars (bound to
/// <c>mesh</c>) must not route an external host directly, around the gateway. The ambient form,
/// <c>spec.requiredWaypoint</c>: every MESH_EXTERNAL ServiceEntry must be bound to that waypoint, effectively.</summary>
/// <remarks>(a) rests on routing that a later write of the same apply (or the generator) may create: admission admits it
/// as a warning and re-checks after the grace period. Traffic that has no route through the gateway leaves the sidecar
/// directly (PassthroughCluster or the entry's own cluster), which is exactly what the policy exists to prevent.</remarks>
public sealed class Egw302RequiredGateway : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyRequiredGateway];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.VirtualService, ResourceKind.Gateway, ResourceKind.GatewayApiGateway];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.ServiceEntry or ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        foreach (var policy in context.Policies.Selecting(subject.Namespace))
        {
            if (policy.Spec.RequiredWaypoint is { Namespace: { Length: > 0 } wns, Name: { Length: > 0 } wname })
            {
                if (subject is ServiceEntry entry)
                {
                    CheckWaypoint(entry, policy, new WaypointBinding(wns, wname, WaypointSource.Object), context);
                }

                continue;
            }

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

    /// <summary>The ambient form: the entry must be bound to <paramref name="required"/> (its <c>istio.io/use-waypoint</c>
    /// label, else its namespace's), and the binding must take, by the semantics istiod binds with (<see cref="Waypoints"/>,
    /// as EGW501): the Gateway exists, is of class <c>istio-waypoint</c>, serves <c>service</c> or <c>all</c> traffic and
    /// admits the entry's namespace. Anything else and ztunnel sends the traffic straight to the external host.</summary>
    private static void CheckWaypoint(ServiceEntry se, EgressPolicy policy, WaypointBinding required, RuleContext context)
    {
        if (!string.Equals(se.Spec.EffectiveLocation, Locations.MeshExternal, StringComparison.OrdinalIgnoreCase) ||
            se.Spec.Hosts.All(h => HostName.IsClusterLocal(HostName.Resolve(h, se.Namespace))))
        {
            return;
        }

        var want = required.Display;
        var suffix = $"(EgressPolicy {policy.Name})";
        var binding = Waypoints.BindingOf(se, context.View);
        if (binding is null)
        {
            var how = Waypoints.OptsOut(se) ? $"opts out ({AmbientLabels.UseWaypoint}: none) of {want}" : $"not bound to {want}";
            var fix = required.Namespace == se.Namespace
                ? $"set {AmbientLabels.UseWaypoint}={required.Name}"
                : $"set {AmbientLabels.UseWaypoint}(-namespace)";
            context.ReportPolicy(policy, null, RuleIds.PolicyRequiredGateway, se, $"metadata.labels[{AmbientLabels.UseWaypoint}]",
                $"{how}; {fix} {suffix}");
            return;
        }

        if (binding.Namespace != required.Namespace || binding.Name != required.Name)
        {
            context.ReportPolicy(policy, null, RuleIds.PolicyRequiredGateway, se, binding.Path,
                $"bound to {binding.Display} ({binding.Origin(se.Namespace)}); bind it to {want} {suffix}");
            return;
        }

        var reason = Unbound(binding, se, context);
        if (reason is not null)
        {
            context.ReportPolicy(policy, reason.Value.Awaits, RuleIds.PolicyRequiredGateway, se, binding.Path,
                $"{reason.Value.Why} by {want}: traffic goes direct; {reason.Value.Fix} {suffix}");
        }
    }

    /// <summary>Why istiod would not bind <paramref name="se"/> to the waypoint it names, from <see cref="Waypoints"/>' look-ups
    /// in EGW501's order; null when it would.</summary>
    private static (string Why, string Fix, Awaited? Awaits)? Unbound(WaypointBinding binding, ServiceEntry se, RuleContext context)
    {
        if (Waypoints.Find(context.View, binding) is not { } waypoint)
        {
            return ("WaypointIsNotReady", "istioctl waypoint apply", new Awaited(ResourceKind.GatewayApiGateway, $"waypoint {binding.Display}"));
        }

        if (waypoint.Spec.GatewayClassName != GatewayApiGateway.WaypointClass)
        {
            return ("not a waypoint class", "use class istio-waypoint", null);
        }

        if (!Waypoints.ServesServices(waypoint))
        {
            return ("UnsupportedTrafficType", $"set {AmbientLabels.WaypointFor}=service", null);
        }

        if (!Waypoints.AllowsAttachment(waypoint, se.Namespace, context.View))
        {
            return ("AttachmentDenied", "fix its allowedRoutes", null);
        }

        // as EGW501: only the whole cluster carries status, so only there does a missing address mean "not ready"
        return context.Policy.WholeCluster && waypoint.Status.Addresses.Count == 0 ? ("WaypointIsNotReady", "check its pods", null) : null;
    }

    /// <summary>A waypoint Gateway changed: the entries bound to it; a Namespace changed (its label may bind them): its
    /// entries. Only while some policy requires a waypoint.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (changed is not (GatewayApiGateway or Namespace) || !PolicySet.Of(view).All.Any(p => p.Spec.RequiredWaypoint is not null))
        {
            return [];
        }

        return changed is GatewayApiGateway gw
            ? Waypoints.EntriesBoundTo(view, gw.Key)
            : view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry).Where(se => se.Namespace == changed.Name);
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
