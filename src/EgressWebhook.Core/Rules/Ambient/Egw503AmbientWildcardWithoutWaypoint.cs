using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW503: a ServiceEntry with a wildcard host, in a mesh with ambient namespaces, bound to no waypoint.</summary>
/// <remarks>ztunnel captures by address: a wildcard host has none to capture (Istio allocates addresses to concrete hosts
/// only), so ambient clients' traffic to it passes straight out. In ambient mode a wildcard entry works only through a
/// waypoint; with <c>DYNAMIC_DNS</c> istiod logs "has dynamic DNS resolution but no valid waypoint" and gives the data
/// plane nothing (Istio blog "Simplifying Egress Routing to Wildcard Destinations", 2026). Flagged only with ambient
/// evidence (a Namespace labelled <c>istio.io/dataplane-mode=ambient</c>): in sidecar mode a wildcard entry needs no
/// waypoint. Warning: the entry is valid, and sidecar clients may use it.</remarks>
internal sealed class Egw503AmbientWildcardWithoutWaypoint : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.AmbientWildcardWithoutWaypoint];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || Waypoints.BindingOf(se, context.View) is not null)
        {
            return;
        }

        var index = -1;
        for (var i = 0; i < se.Spec.Hosts.Count && index < 0; i++)
        {
            if (HostName.IsWildcard(se.Spec.Hosts[i]))
            {
                index = i;
            }
        }

        if (index < 0)
        {
            return;
        }

        var ambient = Waypoints.AmbientNamespaces(context.View);
        if (ambient.Count == 0)
        {
            return;
        }

        var more = ambient.Count > 1 ? $" (+{ambient.Count - 1})" : "";
        var why = Waypoints.OptsOut(se) ? "opted out of waypoints" : "bound to no waypoint";
        var dyn = se.Spec.EffectiveResolution == Resolutions.DynamicDns ? " (DYNAMIC_DNS needs one)" : "";
        context.Report(RuleIds.AmbientWildcardWithoutWaypoint, Severity.Warning, se, $"spec.hosts[{index}]",
            $"{se.Spec.Hosts[index]} is {why}{dyn}: ztunnel in ambient {ambient[0]}{more} sends it direct; label it {AmbientLabels.UseWaypoint}");
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Namespace ? view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry).Where(se => se.Spec.Hosts.Any(HostName.IsWildcard)) : [];
}
