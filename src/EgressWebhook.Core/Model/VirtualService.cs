using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>Istio <c>VirtualService</c>: routing rules for hosts, bound to the mesh and/or Gateways.</summary>
public sealed record VirtualService : IstioObject<VirtualServiceSpec>
{
    public override ResourceKind ResourceKind => ResourceKind.VirtualService;
}

public sealed record VirtualServiceSpec
{
    public IReadOnlyList<string> Hosts { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> Gateways { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<HttpRoute> Http { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<TlsRoute> Tls { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<TcpRoute> Tcp { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> ExportTo { get; init => field = NullSafe.List(value); } = [];
}

public sealed record HttpRoute
{
    public string? Name { get; init; }

    public IReadOnlyList<HttpMatchRequest> Match { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<HttpRouteDestination> Route { get; init => field = NullSafe.List(value); } = [];

    public Destination? Mirror { get; init; }

    public IReadOnlyList<HttpMirrorPolicy> Mirrors { get; init => field = NullSafe.List(value); } = [];
}

public sealed record HttpMatchRequest
{
    public string? Name { get; init; }

    public int? Port { get; init; }

    public IReadOnlyList<string> Gateways { get; init => field = NullSafe.List(value); } = [];

    public string? SourceNamespace { get; init; }
}

public sealed record HttpRouteDestination
{
    public Destination? Destination { get; init; }

    public int? Weight { get; init; }
}

public sealed record HttpMirrorPolicy
{
    public Destination? Destination { get; init; }
}

public sealed record TlsRoute
{
    public IReadOnlyList<TlsMatchAttributes> Match { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<RouteDestination> Route { get; init => field = NullSafe.List(value); } = [];
}

public sealed record TlsMatchAttributes
{
    public IReadOnlyList<string> SniHosts { get; init => field = NullSafe.List(value); } = [];

    /// <summary>Proto field name <c>sni_hosts</c>, which protobuf JSON parsing accepts as an alias
    /// (older Istio docs use it). Read only; it folds into <see cref="SniHosts"/>.</summary>
    [JsonPropertyName("sni_hosts")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? SniHostsProtoName
    {
        get => null;
        init
        {
            if (value is { Count: > 0 })
            {
                SniHosts = value;
            }
        }
    }

    public int? Port { get; init; }

    public IReadOnlyList<string> Gateways { get; init => field = NullSafe.List(value); } = [];

    public string? SourceNamespace { get; init; }
}

public sealed record TcpRoute
{
    public IReadOnlyList<L4MatchAttributes> Match { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<RouteDestination> Route { get; init => field = NullSafe.List(value); } = [];
}

public sealed record L4MatchAttributes
{
    public int? Port { get; init; }

    public IReadOnlyList<string> Gateways { get; init => field = NullSafe.List(value); } = [];

    public string? SourceNamespace { get; init; }
}

public sealed record RouteDestination
{
    public Destination? Destination { get; init; }

    public int? Weight { get; init; }
}

public sealed record Destination
{
    public string Host { get; init => field = value ?? ""; } = "";

    public string? Subset { get; init; }

    public PortSelector? Port { get; init; }
}

public sealed record PortSelector
{
    public int? Number { get; init; }
}
