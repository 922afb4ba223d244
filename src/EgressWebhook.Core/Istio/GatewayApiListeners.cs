using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Istio;

/// <summary>Gateway API attachment of a route to a Gateway's listeners (gateway-api spec, "Attaching Routes to
/// Gateways"; Istio's <c>pilot/pkg/config/kube/gateway</c> follows it): the <c>parentRef</c>'s <c>sectionName</c> and
/// <c>port</c> pick listeners; a listener admits the route when its protocol carries the route's kind (its
/// <c>allowedRoutes.kinds</c> when set), its <c>allowedRoutes.namespaces</c> admits the route's namespace (unset:
/// <c>Same</c>), and its <c>hostname</c> (unset: any) intersects one of the route's <c>hostnames</c> (none: any).</summary>
internal static class GatewayApiListeners
{
    /// <summary>The listeners <paramref name="parent"/> selects (by <c>sectionName</c> and <c>port</c>).</summary>
    public static List<GatewayListener> Selected(GatewayApiGateway gateway, ParentReference parent) =>
        [.. gateway.Spec.Listeners.Where(l => (parent.SectionName is null || l.Name == parent.SectionName) && (parent.Port is null || l.Port == parent.Port))];

    /// <summary>Why <paramref name="listener"/> does not admit <paramref name="route"/> and what to change, or null when it does.</summary>
    public static ListenerRejection? Rejection(GatewayListener listener, GatewayApiGateway gateway, GatewayApiRoute route, SnapshotView view)
    {
        var name = listener.Name ?? $"port {listener.Port}";
        if (listener.AllowedRoutes is { Kinds.Count: > 0 } allowed && !allowed.Kinds.Any(k => k.Kind == route.RouteKind))
        {
            return new($"listener {name} allows only {string.Join(", ", allowed.Kinds.Select(k => k.Kind).Take(3))}", $"add {route.RouteKind} to allowedRoutes.kinds");
        }

        if (!CarriesKind(listener, route.RouteKind))
        {
            return new($"listener {name} ({Describe(listener)}) cannot carry a {route.RouteKind}",
                route.RouteKind == "TLSRoute" ? "use a TLS listener with tls.mode Passthrough" : "use a listener of the route's protocol");
        }

        if (!Waypoints.Admits(listener.AllowedRoutes?.Namespaces, gateway.Namespace, route.Namespace, view))
        {
            return new($"listener {name} admits {Waypoints.Describe(listener.AllowedRoutes?.Namespaces)} namespaces, not {route.Namespace}",
                "set allowedRoutes.namespaces.from");
        }

        if (listener.Hostname is { Length: > 0 } hostname && route.Spec.Hostnames.Count > 0 && !route.Spec.Hostnames.Any(h => HostName.Matches(h, hostname)))
        {
            return new($"listener {name} hostname {hostname} matches no route hostname", "align the hostnames");
        }

        return null;
    }

    /// <summary><c>TLS Passthrough</c>, <c>HTTPS</c>, <c>HTTP</c>: the listener's protocol and TLS mode.</summary>
    public static string Describe(GatewayListener listener) =>
        listener.Tls?.Mode is { Length: > 0 } mode ? $"{listener.Protocol} {mode}" : listener.Protocol ?? "no protocol";

    /// <summary>Whether the listener's protocol and TLS mode carry routes of <paramref name="kind"/> (its
    /// <c>allowedRoutes.kinds</c> is looked at before).</summary>
    private static bool CarriesKind(GatewayListener listener, string kind)
    {
        // Gateway API route kinds per listener protocol; TLS listeners carry TLSRoutes in Passthrough mode (Terminate for
        // TLSRoute is experimental and Istio does not implement it), TCPRoutes in Terminate mode
        var protocol = listener.Protocol ?? "";
        var passthrough = string.Equals(listener.Tls?.Mode, "Passthrough", StringComparison.Ordinal);
        return kind switch
        {
            "HTTPRoute" or "GRPCRoute" => protocol is "HTTP" or "HTTPS",
            "TLSRoute" => protocol == "TLS" && passthrough,
            "TCPRoute" => protocol == "TCP" || (protocol == "TLS" && !passthrough),
            _ => true,
        };
    }
}

/// <summary>Why a listener does not admit a route (<see cref="Reason"/>) and the change that would let it
/// (<see cref="Fix"/>), chosen with the reason.</summary>
internal readonly record struct ListenerRejection(string Reason, string Fix);
