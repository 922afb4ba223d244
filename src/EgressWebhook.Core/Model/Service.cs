namespace EgressWebhook.Core.Model;

/// <summary>Core v1 <c>Service</c>: a registry entry (<c>name.ns.svc.cluster.local</c>) and a gateway workload's ports.</summary>
public sealed record Service : EgressObject
{
    /// <summary>Annotation that sets a Service's Istio visibility (comma-separated).</summary>
    public const string ExportToAnnotation = "networking.istio.io/exportTo";

    public override ResourceKind ResourceKind => ResourceKind.Service;

    public ServiceSpec Spec { get; init => field = value ?? new(); } = new();
}

public sealed record ServiceSpec
{
    public string? Type { get; init; }

    public IReadOnlyDictionary<string, string> Selector { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;

    public IReadOnlyList<ServicePort> Ports { get; init => field = NullSafe.List(value); } = [];

    public string? ExternalName { get; init; }
}

public sealed record ServicePort
{
    public string? Name { get; init; }

    public int Port { get; init; }

    /// <summary>Int or string in Kubernetes; kept as written.</summary>
    public string? TargetPort { get; init; }

    public string? Protocol { get; init; }
}

/// <summary>Core v1 <c>Namespace</c>.</summary>
public sealed record Namespace : EgressObject
{
    public override ResourceKind ResourceKind => ResourceKind.Namespace;
}
