using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>A Gateway API <c>gateway.networking.k8s.io</c> <c>Gateway</c>: an ambient waypoint (class
/// <c>istio-waypoint</c>) or, in sidecar mode, a Gateway API egress gateway (class <c>istio</c>).</summary>
/// <remarks>Same Kubernetes kind name as Istio's <c>networking.istio.io</c> Gateway (<see cref="Gateway"/>): the decoder
/// tells them apart by the API group of their <c>apiVersion</c> (<see cref="Serialization.KindTable.Find"/>), and they are
/// different <see cref="ResourceKind"/>s, so one of each with the same name and namespace are two objects.</remarks>
internal sealed record GatewayApiGateway : EgressObject
{
    public const string Group = GatewayApiRoute.Group;

    /// <summary>The class of Istio's waypoints (<c>istioctl waypoint generate</c>).</summary>
    public const string WaypointClass = "istio-waypoint";

    /// <summary>The class of Istio's Gateway API gateways (ingress or egress), deployed as the <c>&lt;name&gt;-istio</c> Service.</summary>
    public const string IstioClass = "istio";

    /// <summary>The suffix of the Service (and Deployment) Istio's gateway controller creates for a Gateway.</summary>
    public const string ServiceSuffix = "-istio";

    public override ResourceKind ResourceKind => ResourceKind.GatewayApiGateway;

    public GatewayApiGatewaySpec Spec { get; init => field = value ?? new(); } = new();

    public GatewayApiGatewayStatus Status { get; init => field = value ?? new(); } = new();

    /// <summary><c>Gateway ns/name</c>, the way kubectl users read it.</summary>
    [JsonIgnore]
    public string Display => $"Gateway {Namespace}/{Name}";

    /// <summary>The name of the Service Istio deploys for this Gateway.</summary>
    [JsonIgnore]
    public string ServiceName => Name + ServiceSuffix;
}

internal sealed record GatewayApiGatewaySpec
{
    public string? GatewayClassName { get; init; }

    public IReadOnlyList<GatewayListener> Listeners { get; init => field = NullSafe.List(value); } = [];
}

/// <summary>A Gateway API listener.</summary>
internal sealed record GatewayListener
{
    public string? Name { get; init; }

    /// <summary>Unset: any host.</summary>
    public string? Hostname { get; init; }

    public int Port { get; init; }

    /// <summary>HTTP, HTTPS, TLS, TCP, UDP, or Istio's HBONE.</summary>
    public string? Protocol { get; init; }

    public GatewayListenerTls? Tls { get; init; }

    public AllowedRoutes? AllowedRoutes { get; init; }
}

internal sealed record GatewayListenerTls
{
    /// <summary><c>Terminate</c> (the Gateway API default) or <c>Passthrough</c>.</summary>
    public string? Mode { get; init; }
}

internal sealed record AllowedRoutes
{
    public RouteNamespaces? Namespaces { get; init; }

    public IReadOnlyList<RouteGroupKind> Kinds { get; init => field = NullSafe.List(value); } = [];
}

/// <summary>Which namespaces' routes (or, for a waypoint, which namespaces' services) may attach.</summary>
internal sealed record RouteNamespaces
{
    /// <summary><c>Same</c> (unset), <c>All</c> or <c>Selector</c>.</summary>
    public string? From { get; init; }

    public LabelSelector? Selector { get; init; }
}

internal sealed record RouteGroupKind
{
    public string? Group { get; init; }

    public string? Kind { get; init; }
}

internal sealed record GatewayApiGatewayStatus
{
    /// <summary>Filled by Istio once the gateway has a ready pod; a waypoint without one is not used (<c>WaypointIsNotReady</c>).</summary>
    public IReadOnlyList<GatewayStatusAddress> Addresses { get; init => field = NullSafe.List(value); } = [];
}

internal sealed record GatewayStatusAddress
{
    public string? Type { get; init; }

    public string? Value { get; init; }
}

/// <summary>Values of <see cref="RouteNamespaces.From"/>.</summary>
internal static class FromNamespaces
{
    public const string Same = "Same";
    public const string All = "All";
    public const string Selector = "Selector";
}
