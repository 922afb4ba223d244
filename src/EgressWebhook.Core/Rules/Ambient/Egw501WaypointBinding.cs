using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW501: the waypoint a ServiceEntry is bound to (its <c>istio.io/use-waypoint</c> label, else its namespace's)
/// cannot take its traffic: it does not exist, is not a waypoint, serves another traffic type, or does not admit the
/// entry's namespace. Messages carry the reason istiod writes to the entry's <c>istio.io/WaypointBound</c> condition.</summary>
/// <remarks>The label records intent only: when the binding fails, ztunnel sends the traffic straight to the external host,
/// past every policy of the waypoint (Istio docs, "Require traffic to traverse the waypoint"). Semantics in
/// <see cref="Waypoints"/>. A missing waypoint is an incompleteness (a later write may create it) and a warning: the
/// entry itself is valid. The others are contradictions and errors. Any namespace's entry may attach where
/// <c>allowedRoutes</c> admits it; it governs attachment only, not who may send to the waypoint (istio/istio#57661).</remarks>
internal sealed class Egw501WaypointBinding : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.WaypointBinding];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.GatewayApiGateway];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || Waypoints.BindingOf(se, context.View) is not { } binding)
        {
            return;
        }

        var origin = binding.Origin(se.Namespace);
        if (Waypoints.Find(context.View, binding) is not { } waypoint)
        {
            context.Report(new Awaited(ResourceKind.GatewayApiGateway, $"waypoint {binding.Display}"), RuleIds.WaypointBinding, Severity.Warning, se, binding.Path,
                $"WaypointIsNotReady: no Gateway {binding.Display} ({origin}); traffic goes direct; istioctl waypoint apply");
            return;
        }

        if (waypoint.Spec.GatewayClassName != GatewayApiGateway.WaypointClass)
        {
            context.Report(RuleIds.WaypointBinding, Severity.Error, se, binding.Path,
                $"{waypoint.Display} is class {waypoint.Spec.GatewayClassName ?? "(unset)"}, not a waypoint; use class istio-waypoint",
                waypoint.Ref);
            return;
        }

        if (!Waypoints.ServesServices(waypoint))
        {
            context.Report(RuleIds.WaypointBinding, Severity.Error, se, binding.Path,
                $"UnsupportedTrafficType: waypoint {binding.Display} serves {Waypoints.TrafficType(waypoint)}, not service; " +
                $"set {AmbientLabels.WaypointFor}=service", waypoint.Ref);
            return;
        }

        if (!Waypoints.AllowsAttachment(waypoint, se.Namespace, context.View))
        {
            var listener = Waypoints.AttachmentListener(waypoint);
            context.Report(RuleIds.WaypointBinding, Severity.Error, se, binding.Path,
                $"AttachmentDenied: waypoint {binding.Display} admits {Waypoints.Describe(listener?.AllowedRoutes?.Namespaces)}, not {se.Namespace}; " +
                "fix its allowedRoutes", waypoint.Ref);
            return;
        }

        // istiod binds only a waypoint with an address (status.addresses, once a pod is ready): the cluster's objects carry
        // status, manifests do not, so only the whole cluster can say it has none
        if (context.Policy.WholeCluster && waypoint.Status.Addresses.Count == 0)
        {
            context.Report(RuleIds.WaypointBinding, Severity.Warning, se, binding.Path,
                $"WaypointIsNotReady: waypoint {binding.Display} has no address; traffic goes direct; check its pods", waypoint.Ref);
        }
    }

    /// <summary>A waypoint changed: the entries bound to it. A Namespace changed: the entries in it (its label may bind them).</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        GatewayApiGateway gw => Waypoints.EntriesBoundTo(view, gw.Key),
        Namespace ns => view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry).Where(se => se.Namespace == ns.Name || Waypoints.BindingOf(se, view)?.Namespace == ns.Name),
        _ => [],
    };
}
