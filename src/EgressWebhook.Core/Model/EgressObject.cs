using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>Kinds of object the engine reads. Everything else is skipped.</summary>
public enum ResourceKind
{
    ServiceEntry,
    Gateway,
    VirtualService,
    DestinationRule,
    Sidecar,
    Service,
    Namespace,
    MeshConfig,

    /// <summary>A Gateway API route (HTTPRoute, TLSRoute, TCPRoute, GRPCRoute).</summary>
    GatewayApiRoute,

    /// <summary>A Gateway API Gateway (a waypoint, or a Gateway API egress gateway); not Istio's Gateway.</summary>
    GatewayApiGateway,

    /// <summary>A Gateway API ReferenceGrant.</summary>
    ReferenceGrant,

    /// <summary>A security.istio.io AuthorizationPolicy.</summary>
    AuthorizationPolicy,
    /// <summary>The project's <c>EgressPolicy</c> (cluster-scoped).</summary>
    EgressPolicy,
}

/// <summary>Base of every decoded object: type meta and metadata.</summary>
public abstract record EgressObject
{
    public string ApiVersion { get; init => field = value ?? ""; } = "";

    public ObjectMeta Metadata { get; init => field = value ?? new(); } = new();

    /// <summary>The kind as the engine knows it.</summary>
    [JsonIgnore]
    public abstract ResourceKind ResourceKind { get; }

    /// <summary>The Kubernetes kind name, e.g. <c>ServiceEntry</c>.</summary>
    [JsonIgnore]
    public string KindName => ResourceKind.ToString();

    [JsonIgnore]
    public string Name => Metadata.Name;

    /// <summary>The object's namespace; the decoder always fills it for namespaced kinds.</summary>
    [JsonIgnore]
    public string Namespace => Metadata.Namespace ?? "";

    [JsonIgnore]
    public ObjectRef Ref => new(KindName, Namespace, Name);

    /// <summary>Identity within a snapshot: kind, namespace and name.</summary>
    [JsonIgnore]
    public ObjectKey Key => new(ResourceKind, Namespace, Name);
}

/// <summary>A networking.istio.io object with a typed spec.</summary>
public abstract record IstioObject<TSpec> : EgressObject
    where TSpec : class, new()
{
    public const string Group = "networking.istio.io";

    public TSpec Spec { get; init => field = value ?? new(); } = new();
}

/// <summary>Identity of an object within a snapshot.</summary>
public readonly record struct ObjectKey(ResourceKind Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}
