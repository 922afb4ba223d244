using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>Egress routing in an ambient namespace (issue 17): the opt-in value names the egress <b>waypoint</b>
/// (<c>&lt;namespace&gt;/&lt;Gateway of class istio-waypoint&gt;</c>), and routing an entry through it is the entry's own
/// <c>istio.io/use-waypoint</c> label (and <c>istio.io/use-waypoint-namespace</c> when the waypoint is elsewhere), not a
/// sidecar-mode Gateway and VirtualServices: ztunnel applies no VirtualService, so the sidecar chain would never be used
/// (Istio docs, "Egress gateways" in ambient mode: "ambient mode uses waypoints for egress").</summary>
/// <remarks>The waypoint is checked as istiod binds it (<see cref="Waypoints"/>, the EGW501 look-ups): it exists, is of class
/// <c>istio-waypoint</c>, serves <c>service</c> or <c>all</c> traffic and admits the entry's namespace. Anything else is
/// EGW411, with the <c>WaypointBound</c> reason istiod would write, and the entry is not labelled (a label that binds to a
/// waypoint that cannot take the traffic sends it straight out: a silent bypass).</remarks>
public static class WaypointRouting
{
    /// <summary>Whether <paramref name="entry"/> is routed the ambient way: its namespace is labelled <c>istio.io/dataplane-mode=ambient</c>.</summary>
    public static bool Applies(ServiceEntry entry, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Waypoints.IsAmbientNamespace(view, entry.Namespace);
    }

    /// <summary>The labels the entry needs to be bound to <paramref name="waypoint"/>, in a stable order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Labels(ServiceEntry entry, GatewayServiceRef waypoint)
    {
        ArgumentNullException.ThrowIfNull(entry);
        List<KeyValuePair<string, string>> labels = [new(AmbientLabels.UseWaypoint, waypoint.Name)];
        if (waypoint.Namespace != entry.Namespace)
        {
            labels.Add(new(AmbientLabels.UseWaypointNamespace, waypoint.Namespace));
        }

        return labels;
    }

    /// <summary>The Gateway API routes (HTTPRoute, TLSRoute, ...) naming <paramref name="entry"/> in their <c>parentRefs</c>,
    /// by namespace and name: in ambient mode the waypoint the entry is bound to applies them, and ztunnel applies none
    /// (Istio docs, ambient "Egress gateways": the waypoint is the egress gateway; "Migrate policies": L7 routing, HTTPRoute
    /// and GRPCRoute, is enforced by waypoints, not ztunnel). They are the routing the waypoint label switches on, not a
    /// competing route (EGW404 is for sidecar-mode legs only).</summary>
    public static IReadOnlyList<GatewayApiRoute> RoutesAtWaypoint(ServiceEntry entry, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        return [.. view.GatewayApiRoutesWithServiceEntryParent(entry.Namespace, entry.Name).DistinctBy(r => r.Key)
            .OrderBy(r => r.Namespace, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.RouteKind, StringComparer.Ordinal)];
    }

    /// <summary>Why <paramref name="entry"/> cannot be bound to <paramref name="waypoint"/>; empty when it can.</summary>
    internal static List<Finding> Check(ServiceEntry entry, GatewayServiceRef waypoint, SnapshotView view)
    {
        var notices = new List<Finding>();
        var display = waypoint.ToString();
        var labels = entry.Metadata.Labels;
        if (labels.TryGetValue(AmbientLabels.UseWaypoint, out var own))
        {
            var ownNs = labels.TryGetValue(AmbientLabels.UseWaypointNamespace, out var o) && o.Length > 0 ? o : entry.Namespace;
            if (own != waypoint.Name || ownNs != waypoint.Namespace)
            {
                notices.Add(Notice(entry, $"metadata.labels[{AmbientLabels.UseWaypoint}]",
                    $"labelled {AmbientLabels.UseWaypoint}={own} ({ownNs}), not egress waypoint {display}; drop the label or opt out"));
                return notices;
            }
        }

        if (view.Find(new ObjectKey(ResourceKind.GatewayApiGateway, waypoint.Namespace, waypoint.Name)) is not GatewayApiGateway gw)
        {
            notices.Add(Notice(entry, "metadata.annotations",
                $"WaypointIsNotReady: no waypoint Gateway {display} for ambient {entry.Namespace}; istioctl waypoint apply"));
        }
        else if (gw.Spec.GatewayClassName != GatewayApiGateway.WaypointClass)
        {
            notices.Add(Notice(entry, "metadata.annotations",
                $"Gateway {display} is class {gw.Spec.GatewayClassName ?? "(unset)"}, not a waypoint; use class istio-waypoint", gw.Ref));
        }
        else if (!Waypoints.ServesServices(gw))
        {
            notices.Add(Notice(entry, "metadata.annotations",
                $"UnsupportedTrafficType: waypoint {display} serves {Waypoints.TrafficType(gw)}; set {AmbientLabels.WaypointFor}=service", gw.Ref));
        }
        else if (!Waypoints.AllowsAttachment(gw, entry.Namespace, view))
        {
            notices.Add(Notice(entry, "metadata.annotations",
                $"AttachmentDenied: waypoint {display} admits {Waypoints.Describe(Waypoints.AttachmentListener(gw)?.AllowedRoutes?.Namespaces)}, " +
                $"not {entry.Namespace}; fix its allowedRoutes", gw.Ref));
        }

        return notices;
    }

    private static Finding Notice(ServiceEntry entry, string path, string message, params ObjectRef[] related) =>
        new(RuleIds.RoutingSkippedNoWaypoint, Severity.Warning, entry.Ref, path, Finding.Clamp(message), related);
}
