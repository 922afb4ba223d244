using System.Globalization;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.GatewayApi;

namespace EgressWebhook.Core.Trace;

/// <summary>The ambient data plane (issue 17): a client in a namespace labelled <c>istio.io/dataplane-mode=ambient</c> has
/// no sidecar; its ztunnel sends a request for a ServiceEntry host to the waypoint the entry is bound to, else straight
/// to the host. Consulted before the sidecar walk, it decides every trace from an ambient namespace.</summary>
/// <remarks>Istio semantics, as the rules read them (<see cref="Waypoints"/>, EGW501, EGW507, EGW508): ztunnel applies no
/// VirtualService and no Sidecar; it ignores <c>exportTo</c> (istio/istio#55163), so any namespace's entry for the host
/// is used; it ignores <c>REGISTRY_ONLY</c> (#54281, #58644), so an unregistered host goes out directly; a binding to a
/// waypoint that is missing, not a waypoint, serves another traffic type or does not admit the entry's namespace fails
/// (<c>WaypointBound</c> false) and the traffic goes straight out, past the waypoint's policies. Past a bound waypoint
/// (<see cref="AtWaypoint"/>): the waypoint applies the Gateway API routes whose <c>parentRefs</c> name the entry (an
/// HTTPRoute for an HTTP port, a TLSRoute or TCPRoute for a TLS one, a TCPRoute for a TCP one; Istio's ambient egress
/// task and <c>pilot/pkg/config/kube/gateway</c>, ServiceEntry parents), a <c>kind: Hostname</c> backend naming the
/// external host; then the DestinationRule for the host found from the waypoint's namespace, whose <c>tls.mode:
/// SIMPLE</c> (or MUTUAL) on a port with <c>targetPort: 443</c> is TLS origination at the waypoint (EGW506).</remarks>
internal sealed class AmbientTraceStage : ITraceStage
{
    private const int TlsPort = 443;

    public IReadOnlyList<TraceHop>? Enter(RuleContext context, string fromNamespace, string host, int port, out TraceStageEnd? end)
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

        // ztunnel does not honour exportTo, but does honour serviceEntryVisibility (Istio 1.31): the first entry for the
        // host declaring the port that the client's namespace can see, its own namespace's first, then namespace/name order
        var candidates = view.ServiceEntries(host).Select(m => m.Item)
            .Where(se => se.Spec.Ports.Count == 0 || se.Spec.Ports.Any(p => p.Number == port))
            .OrderBy(se => se.Namespace == fromNamespace ? 0 : 1).ThenBy(se => se.Namespace, StringComparer.Ordinal).ThenBy(se => se.Name, StringComparer.Ordinal)
            .ToList();
        var entry = candidates.FirstOrDefault(se => ServiceEntryVisibility.Allows(ServiceEntryVisibility.Of(se, view), se.Namespace, fromNamespace));
        if (entry is null && candidates.Count > 0)
        {
            end = Hidden(hops, candidates[0], fromNamespace, host, context);
            return hops;
        }

        if (entry is null)
        {
            hops.Add(new TraceHop("Cluster", "", "direct", "", $"no ServiceEntry declares {host}:{port}: ztunnel sends it straight out"));
            end = new TraceStageEnd(TraceEnd.Passthrough, "unregistered: ambient ignores REGISTRY_ONLY, ztunnel connects to the host directly");
            return hops;
        }

        if (Waypoints.BindingOf(entry, view) is not { } binding)
        {
            hops.Add(new TraceHop("ServiceEntry", entry.Namespace, entry.Name, "metadata.labels",
                $"registers {host}, bound to no waypoint ({AmbientLabels.UseWaypoint} unset or none)"));
            end = new TraceStageEnd(TraceEnd.External, "no waypoint: ztunnel connects to the host directly, no egress policy applies");
            return hops;
        }

        if (Broken(binding, entry, context) is { } why)
        {
            hops.Add(new TraceHop("ServiceEntry", entry.Namespace, entry.Name, binding.Path, $"asks for waypoint {binding.Display}: {why}"));
            var skipped = RoutesOf(entry, port, context).Count();
            end = new TraceStageEnd(TraceEnd.External, $"waypoint binding fails ({why.Split(':')[0]}): ztunnel sends it straight out, bypassing the waypoint"
                + (skipped > 0 ? $" and its {skipped} route(s)" : "")) { Bypassed = binding.Display };
            return hops;
        }

        hops.Add(new TraceHop("ServiceEntry", entry.Namespace, entry.Name, binding.Path, $"bound to waypoint {binding.Display} ({binding.Origin(entry.Namespace)})"));
        hops.Add(new TraceHop("Gateway", binding.Namespace, binding.Name, "spec.listeners",
            $"waypoint: ztunnel tunnels it over HBONE :{Waypoints.HbonePort}; its AuthorizationPolicies and routes apply") { Depth = 1 });
        var (stop, reason) = AtWaypoint(hops, entry, binding, host, port, context);
        end = new TraceStageEnd(stop, reason) { Via = [binding.Display] };
        return hops;
    }

    /// <summary>An entry for the host that <c>serviceEntryVisibility</c> hides from the client's namespace (EGW502 (b)):
    /// ztunnel does not match the traffic by it, the client's DNS goes upstream, and the connection is unregistered,
    /// so it passes through to the original destination, past the entry's waypoint, whatever the outbound policy (ambient
    /// ignores REGISTRY_ONLY, EGW507).</summary>
    private static TraceStageEnd Hidden(List<TraceHop> hops, ServiceEntry hidden, string fromNamespace, string host, RuleContext context)
    {
        var view = context.View;
        var visibility = ServiceEntryVisibility.Of(hidden, view);
        var field = ServiceEntryVisibility.Field(hidden, view) ?? "serviceEntryVisibility";
        var binding = Waypoints.BindingOf(hidden, view);
        var bound = binding is null ? "" : $", so its waypoint {binding.Display} is not used";
        hops.Add(new TraceHop("ServiceEntry", hidden.Namespace, hidden.Name, "metadata.namespace",
            $"registers {host}, but {field} makes it {visibility}: hidden from {fromNamespace}, ztunnel does not match it{bound}"));
        var registryOnly = context.OutboundPolicyFor(fromNamespace) == OutboundPolicies.RegistryOnly ? "; REGISTRY_ONLY does not stop it in ambient" : "";
        return new TraceStageEnd(TraceEnd.Passthrough,
            $"hidden by serviceEntryVisibility {visibility}: DNS goes upstream, ztunnel connects to the host directly{registryOnly}")
        {
            Bypassed = binding?.Display,
        };
    }

    /// <summary>The waypoint's leg: the route it applies for the entry (if any), the backend host, the DestinationRule.</summary>
    private static (TraceEnd End, string Reason) AtWaypoint(List<TraceHop> hops, ServiceEntry entry, WaypointBinding binding, string host, int port, RuleContext context)
    {
        var destHost = host;
        var destPort = port;
        var target = entry;
        if (RoutesOf(entry, port, context).FirstOrDefault() is { } route)
        {
            if (RouteRefs.Backends(route.Route).FirstOrDefault() is not ({ } path, { } backend))
            {
                hops.Add(new TraceHop(route.Route.RouteKind, route.Route.Namespace, route.Route.Name, route.ParentPath,
                    $"applied by the waypoint for ServiceEntry {entry.Name}, but has no backendRefs") { Depth = 1 });
                return (TraceEnd.Dropped, $"{route.Route.Display} has no backend: the waypoint does not forward it");
            }

            var more = route.Others > 0 ? $" (first of {route.Others + 1} routes)" : "";
            if (backend.IsService)
            {
                var svcNamespace = RouteRefs.NamespaceOf(backend.Namespace, route.Route);
                hops.Add(new TraceHop(route.Route.RouteKind, route.Route.Namespace, route.Route.Name, path,
                    $"applied by the waypoint: → Service {svcNamespace}/{backend.Name}:{backend.Port?.ToString(CultureInfo.InvariantCulture) ?? "?"}{more}") { Depth = 1 });
                return (TraceEnd.Internal, $"{route.Route.Display} sends it to Service {svcNamespace}/{backend.Name}, in the cluster");
            }

            if (!backend.IsHostname)
            {
                hops.Add(new TraceHop(route.Route.RouteKind, route.Route.Namespace, route.Route.Name, path,
                    $"applied by the waypoint: backend {backend.Group}/{backend.Kind} {backend.Name} is neither a Service nor a Hostname{more}") { Depth = 1 });
                return (TraceEnd.Dropped, $"{route.Route.Display}: the waypoint has no cluster for backend kind {backend.Kind}");
            }

            destHost = backend.Name;
            destPort = backend.Port ?? port;
            hops.Add(new TraceHop(route.Route.RouteKind, route.Route.Namespace, route.Route.Name, path,
                $"applied by the waypoint ({route.ParentPath} is ServiceEntry {entry.Name}): → Hostname {destHost}:{destPort}{more}") { Depth = 1 });
            if (!string.Equals(destHost, host, StringComparison.Ordinal) || destPort != port)
            {
                // a Hostname backend is a ServiceEntry host (Istio resolves it in the registry, EGW514 checks the port)
                if (EntryFor(destHost, destPort, entry.Namespace, context) is not { } other)
                {
                    return (TraceEnd.Dropped, $"no ServiceEntry declares the Hostname backend {destHost}:{destPort}: the waypoint has no cluster for it");
                }

                target = other;
                var i = IndexOf(other.Spec.Ports, p => p.Number == destPort);
                hops.Add(new TraceHop("ServiceEntry", other.Namespace, other.Name, $"spec.ports[{i}]",
                    $"{other.Spec.EffectiveLocation}, resolution {other.Spec.EffectiveResolution}, port {destPort}/{other.Spec.Ports[i].Protocol}") { Depth = 1 });
            }
        }

        var portIndex = IndexOf(target.Spec.Ports, p => p.Number == destPort);
        var entryPort = portIndex < 0 ? null : target.Spec.Ports[portIndex];
        var upstream = entryPort?.TargetPort ?? destPort;
        var via = $"through waypoint {binding.Display} to {destHost}:{upstream.ToString(CultureInfo.InvariantCulture)}";
        var rules = context.DestinationRulesOnLookupPath(destHost, binding.Namespace);
        var plainToTls = upstream == TlsPort && destPort != TlsPort && Protocols.IsHttp(entryPort?.Protocol);
        if (rules.Count == 0)
        {
            return plainToTls
                ? (TraceEnd.Dropped, $"the waypoint sends plain HTTP to {destHost}:{TlsPort}: no DestinationRule originates TLS (EGW506)")
                : (TraceEnd.External, via);
        }

        var dr = rules[0];
        var block = DestinationRuleTls.Blocks(dr.Spec).Where(b => b.Subset is null && (b.Port is null || b.Port == destPort))
            .OrderBy(b => b.Port is null ? 1 : 0).FirstOrDefault();
        var mode = block == default ? ClientTlsModes.Disable : block.Tls.EffectiveMode;
        var originates = ClientTlsModes.Originates(mode);
        var note = originates && entryPort is not null && !Protocols.IsTls(entryPort.Protocol)
            ? $"TLS origination at the waypoint: tls {mode}, {entryPort.Protocol} :{destPort} → TLS to {destHost}:{upstream}"
            : $"first DestinationRule on the lookup path from the waypoint's namespace {binding.Namespace}: tls {mode}";
        hops.Add(new TraceHop("DestinationRule", dr.Namespace, dr.Name, block == default ? "spec.trafficPolicy" : block.Path, note) { Depth = 1 });
        if (plainToTls && !originates)
        {
            return (TraceEnd.Dropped, $"the waypoint sends plain HTTP to {destHost}:{TlsPort}: DestinationRule {dr.Namespace}/{dr.Name} does not originate TLS (EGW506)");
        }

        return (TraceEnd.External, originates && entryPort is not null && !Protocols.IsTls(entryPort.Protocol) ? via + " (TLS originated at the waypoint)" : via);
    }

    /// <summary>The Gateway API routes whose <c>parentRefs</c> name <paramref name="entry"/> (in the parent's namespace, the
    /// route's when unset) for <paramref name="port"/> (a parent port, when set, must be it), of the kinds a waypoint applies
    /// on the port's protocol, their hostnames (when any) covering a host of the entry; in namespace/name order.</summary>
    private static IEnumerable<ParentedRoute> RoutesOf(ServiceEntry entry, int port, RuleContext context)
    {
        var protocol = entry.Spec.Ports.FirstOrDefault(p => p.Number == port)?.Protocol;
        var kinds = protocol is null || protocol.Length == 0 ? GatewayApiRoute.Kinds :
            Protocols.IsHttp(protocol) ? ["HTTPRoute", "GRPCRoute"] :
            Protocols.IsTls(protocol) ? ["TLSRoute", "TCPRoute"] : ["TCPRoute"];
        var found = new List<(GatewayApiRoute Route, string ParentPath)>();
        foreach (var route in RouteRefs.All(context.View))
        {
            if (!kinds.Contains(route.RouteKind, StringComparer.Ordinal) ||
                (route.Spec.Hostnames.Count > 0 && !route.Spec.Hostnames.Any(h => entry.Spec.Hosts.Any(eh => HostName.Matches(h, eh)))))
            {
                continue;
            }

            foreach (var (path, parent) in RouteRefs.Parents(route))
            {
                if (parent.IsServiceEntry && parent.Name == entry.Name && RouteRefs.NamespaceOf(parent.Namespace, route) == entry.Namespace && (parent.Port is null || parent.Port == port))
                {
                    found.Add((route, path));
                    break;
                }
            }
        }

        return found.OrderBy(f => f.Route.Namespace, StringComparer.Ordinal).ThenBy(f => f.Route.Name, StringComparer.Ordinal)
            .ThenBy(f => f.Route.RouteKind, StringComparer.Ordinal).Select(f => new ParentedRoute(f.Route, f.ParentPath, found.Count - 1));
    }

    /// <summary>The entry for a Hostname backend: its own namespace's first, then by namespace and name (ztunnel and
    /// waypoints ignore exportTo).</summary>
    private static ServiceEntry? EntryFor(string host, int port, string preferNamespace, RuleContext context) =>
        context.View.ServiceEntries(host).Select(m => m.Item).Where(se => se.Spec.Ports.Any(p => p.Number == port))
            .OrderBy(se => se.Namespace == preferNamespace ? 0 : 1).ThenBy(se => se.Namespace, StringComparer.Ordinal).ThenBy(se => se.Name, StringComparer.Ordinal)
            .FirstOrDefault();

    private static int IndexOf<T>(IReadOnlyList<T> list, Func<T, bool> predicate)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not null && predicate(list[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private sealed record ParentedRoute(GatewayApiRoute Route, string ParentPath, int Others);

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
