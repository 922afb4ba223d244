using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Trace;

/// <summary>The ambient data plane (issue 17): a client in a namespace labelled <c>istio.io/dataplane-mode=ambient</c> has
/// no sidecar; its ztunnel sends a request for a ServiceEntry host to the waypoint the entry is bound to, else straight
/// to the host. Consulted before the sidecar walk, it decides every trace from an ambient namespace.</summary>
/// <remarks>Istio semantics, as the rules read them (<see cref="Waypoints"/>, EGW501, EGW507, EGW508): ztunnel applies no
/// VirtualService and no Sidecar; it ignores <c>exportTo</c> (istio/istio#55163), so any namespace's entry for the host
/// is used; it ignores <c>REGISTRY_ONLY</c> (#54281, #58644), so an unregistered host goes out directly; a binding to a
/// waypoint that is missing, not a waypoint, serves another traffic type or does not admit the entry's namespace fails
/// (<c>WaypointBound</c> false) and the traffic goes direct, past the waypoint's policies.</remarks>
internal sealed class AmbientTraceStage : ITraceStage
{
    public IReadOnlyList<TraceHop>? Enter(RuleContext context, string fromNamespace, string host, int port, out (TraceEnd End, string Reason)? end)
    {
        ArgumentNullException.ThrowIfNull(context);
        end = null;
        var view = context.View;
        if (!Waypoints.IsAmbientNamespace(view, fromNamespace))
        {
            return null;
        }

        var hops = new List<TraceHop>
        {
            new("Namespace", "", fromNamespace, $"metadata.labels[{AmbientLabels.DataplaneMode}]",
                "ambient: the client's ztunnel captures it (no sidecar: VirtualServices, Sidecar and REGISTRY_ONLY not applied)"),
        };

        // ztunnel does not honour exportTo: the first entry for the host declaring the port, in namespace/name order
        var entry = view.ServiceEntries(host).Select(m => m.Item)
            .Where(se => se.Spec.Ports.Count == 0 || se.Spec.Ports.Any(p => p.Number == port))
            .OrderBy(se => se.Namespace == fromNamespace ? 0 : 1).ThenBy(se => se.Namespace, StringComparer.Ordinal).ThenBy(se => se.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (entry is null)
        {
            hops.Add(new TraceHop("Cluster", "", "direct", "", $"no ServiceEntry declares {host}:{port}: ztunnel sends it straight out"));
            end = (TraceEnd.Passthrough, "unregistered: ambient ignores REGISTRY_ONLY, ztunnel connects to the host directly");
            return hops;
        }

        if (Waypoints.BindingOf(entry, view) is not { } binding)
        {
            hops.Add(new TraceHop("ServiceEntry", entry.Namespace, entry.Name, "metadata.labels",
                $"registers {host}, bound to no waypoint ({AmbientLabels.UseWaypoint} unset or none)"));
            end = (TraceEnd.External, "no waypoint: ztunnel connects to the host directly, no egress policy applies");
            return hops;
        }

        if (Broken(binding, entry, context) is { } why)
        {
            hops.Add(new TraceHop("ServiceEntry", entry.Namespace, entry.Name, binding.Path, $"asks for waypoint {binding.Display}: {why}"));
            end = (TraceEnd.External, $"waypoint binding fails ({why.Split(':')[0]}): ztunnel sends it direct, bypassing the waypoint");
            return hops;
        }

        hops.Add(new TraceHop("ServiceEntry", entry.Namespace, entry.Name, binding.Path, $"bound to waypoint {binding.Display} ({binding.Origin(entry.Namespace)})"));
        hops.Add(new TraceHop("Gateway", binding.Namespace, binding.Name, "spec.listeners",
            $"waypoint: ztunnel tunnels it over HBONE :{Waypoints.HbonePort}; its AuthorizationPolicies and routes apply") { Depth = 1 });
        end = (TraceEnd.External, $"through waypoint {binding.Display} to {host}:{port}");
        return hops;
    }

    /// <summary>Why istiod would not bind the waypoint (EGW501's cases), or null when it would.</summary>
    private static string? Broken(WaypointBinding binding, ServiceEntry entry, RuleContext context)
    {
        if (Waypoints.Find(context.View, binding) is not { } waypoint)
        {
            return $"WaypointIsNotReady: no Gateway {binding.Display}";
        }

        if (waypoint.Spec.GatewayClassName != GatewayApiGateway.WaypointClass)
        {
            return $"not a waypoint: class {waypoint.Spec.GatewayClassName ?? "(unset)"}";
        }

        if (!Waypoints.ServesServices(waypoint))
        {
            return $"UnsupportedTrafficType: serves {Waypoints.TrafficType(waypoint)}";
        }

        if (!Waypoints.AllowsAttachment(waypoint, entry.Namespace, context.View))
        {
            return $"AttachmentDenied: does not admit {entry.Namespace}";
        }

        return context.Policy.WholeCluster && waypoint.Status.Addresses.Count == 0 ? "WaypointIsNotReady: no address" : null;
    }
}
