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

    /// <summary>Why <paramref name="listener"/> does not admit <paramref name="route"/>, or null when it does.</summary>
    public static string? Rejection(GatewayListener listener, GatewayApiGateway gateway, GatewayApiRoute route, SnapshotView view)
    {
        var name = listener.Name ?? $"port {listener.Port}";
        if (!CarriesKind(listener, route.RouteKind))
        {
            return $"listener {name} ({Describe(listener)}) cannot carry a {route.RouteKind}";
        }

        if (!Waypoints.Admits(listener.AllowedRoutes?.Namespaces, gateway.Namespace, route.Namespace, view))
        {
            return $"listener {name} admits {Waypoints.Describe(listener.AllowedRoutes?.Namespaces)} namespaces, not {route.Namespace}";
        }

        if (listener.Hostname is { Length: > 0 } hostname && route.Spec.Hostnames.Count > 0 && !route.Spec.Hostnames.Any(h => HostName.Matches(h, hostname)))
        {
            return $"listener {name} hostname {hostname} matches no route hostname";
        }

        return null;
    }

    /// <summary><c>TLS Passthrough</c>, <c>HTTPS</c>, <c>HTTP</c>: the listener's protocol and TLS mode.</summary>
    public static string Describe(GatewayListener listener) =>
        listener.Tls?.Mode is { Length: > 0 } mode ? $"{listener.Protocol} {mode}" : listener.Protocol ?? "no protocol";

    private static bool CarriesKind(GatewayListener listener, string kind)
    {
        if (listener.AllowedRoutes is { Kinds.Count: > 0 } allowed && !allowed.Kinds.Any(k => k.Kind == kind))
        {
            return false;
        }

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
