using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW502: Istio 1.31's <c>serviceEntryVisibility</c> keeps a waypoint-bound ServiceEntry in its own namespace:
/// (a) bound to a waypoint of another namespace, which istiod refuses; (b) hidden from the ambient namespaces whose
/// clients it is for.</summary>
/// <remarks>The ambient data plane always honours <c>meshConfig.serviceEntryVisibility</c> (<c>applyToSidecars</c> only
/// extends it to Envoy proxies; Istio docs, "ServiceEntry visibility"). A NAMESPACE-visible entry may not bind a
/// waypoint in another namespace: its <c>istio.io/WaypointBound</c> condition is False with reason
/// <c>CrossNamespaceWaypointForbidden</c> and its traffic goes direct (error). For clients of other namespaces the entry
/// is hidden, not blocked: their DNS goes upstream and their traffic passes through to the original destination, past
/// the waypoint (warning).</remarks>
internal sealed class Egw502WaypointVisibility : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.WaypointVisibility];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || Waypoints.BindingOf(se, context.View) is not { } binding)
        {
            return;
        }

        var visibility = Waypoints.AmbientVisibilityOf(se, context.View);
        if (visibility == ServiceEntryVisibilities.Public)
        {
            return;
        }

        if (binding.Namespace != se.Namespace)
        {
            context.Report(RuleIds.WaypointVisibility, Severity.Error, se, binding.Path,
                $"CrossNamespaceWaypointForbidden: {visibility}-visible, bound to {binding.Display}; use a same-namespace waypoint");
            return;
        }

        var hidden = Waypoints.AmbientNamespaces(context.View).Where(ns => ns != se.Namespace).ToList();
        if (hidden.Count > 0)
        {
            var more = hidden.Count > 1 ? $" (+{hidden.Count - 1})" : "";
            context.Report(RuleIds.WaypointVisibility, Severity.Warning, se, "metadata.namespace",
                $"{visibility} visibility hides it from ambient {hidden[0]}{more}, which bypass {binding.Display}; make {se.Namespace} PUBLIC");
        }
    }

    /// <summary>A Namespace's labels decide both the visibility policy that matches and which namespaces are ambient.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Namespace or MeshConfig ? view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry) : [];
}
