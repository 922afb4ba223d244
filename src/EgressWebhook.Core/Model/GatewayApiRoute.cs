using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>A Gateway API route (<c>gateway.networking.k8s.io</c> HTTPRoute, TLSRoute, TCPRoute or GRPCRoute), read
/// only for what egress-gateway routing must not compete with: its parents and host names.</summary>
/// <remarks>Istio programs a route whose <c>parentRefs</c> name a ServiceEntry into the sidecars for that
/// entry's hosts; adding Istio egress routing for the same hosts would compete with it. Routes of different
/// kinds share one <see cref="ResourceKind"/>, so an HTTPRoute and a TLSRoute with the same name in the same
/// namespace are one key in a snapshot (the later one wins).</remarks>
public sealed record GatewayApiRoute : EgressObject
{
    public const string Group = "gateway.networking.k8s.io";

    /// <summary>The route kinds read.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["HTTPRoute", "TLSRoute", "TCPRoute", "GRPCRoute"];

    public override ResourceKind ResourceKind => ResourceKind.GatewayApiRoute;

    /// <summary>The Kubernetes kind as written, e.g. <c>HTTPRoute</c>.</summary>
    [JsonPropertyName("kind")]
    public string RouteKind { get; init => field = value ?? ""; } = "";

    public GatewayApiRouteSpec Spec { get; init => field = value ?? new(); } = new();

    /// <summary><c>HTTPRoute ns/name</c>, the way kubectl users read it.</summary>
    [JsonIgnore]
    public string Display => $"{RouteKind} {Namespace}/{Name}";
}

public sealed record GatewayApiRouteSpec
{
    public IReadOnlyList<ParentReference> ParentRefs { get; init => field = value ?? []; } = [];

    public IReadOnlyList<string> Hostnames { get; init => field = value ?? []; } = [];

    public IReadOnlyList<GatewayApiRouteRule> Rules { get; init => field = value ?? []; } = [];
}

/// <summary>A Gateway API <c>parentRef</c>: group and kind default to a Gateway API <c>Gateway</c>, namespace to the route's.</summary>
public sealed record ParentReference
{
    public string? Group { get; init; }

    public string? Kind { get; init; }

    public string? Namespace { get; init; }

    public string Name { get; init => field = value ?? ""; } = "";

    public int? Port { get; init; }

    /// <summary>The listener name of a Gateway parent; unset: every listener.</summary>
    public string? SectionName { get; init; }

    /// <summary>Whether it names a ServiceEntry (<c>networking.istio.io</c>).</summary>
    [JsonIgnore]
    public bool IsServiceEntry => Kind == "ServiceEntry" && Group == "networking.istio.io";

    /// <summary>Whether it names a Gateway API Gateway (group and kind unset mean one).</summary>
    [JsonIgnore]
    public bool IsGateway => (Kind ?? "Gateway") == "Gateway" && (Group ?? GatewayApiRoute.Group) == GatewayApiRoute.Group;
}

public sealed record GatewayApiRouteRule
{
    public IReadOnlyList<BackendReference> BackendRefs { get; init => field = value ?? []; } = [];
}

/// <summary>A route backend; Istio's <c>kind: Hostname</c> backends name an external host directly.</summary>
public sealed record BackendReference
{
    public string? Group { get; init; }

    public string? Kind { get; init; }

    public string Name { get; init => field = value ?? ""; } = "";

    public string? Namespace { get; init; }

    public int? Port { get; init; }

    [JsonIgnore]
    public bool IsHostname => Kind == "Hostname" && Group == "networking.istio.io";

    /// <summary>Whether it names a Kubernetes Service (group <c>""</c> and kind <c>Service</c>, the defaults).</summary>
    [JsonIgnore]
    public bool IsService => (Kind ?? "Service") == "Service" && string.IsNullOrEmpty(Group);
}
