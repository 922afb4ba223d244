namespace EgressWebhook.Core.Model;

/// <summary>The part of Kubernetes <c>metadata</c> that the rules read.</summary>
public sealed record ObjectMeta
{
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>Filled by the decoder: <c>default</c> offline, the request's namespace in admission.</summary>
    public string? Namespace { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init => field = NullSafe.Map(value, EmptyMap); } = EmptyMap;

    public IReadOnlyDictionary<string, string> Annotations { get; init => field = NullSafe.Map(value, EmptyMap); } = EmptyMap;

    public string? ResourceVersion { get; init; }

    public string? Uid { get; init; }

    public long? Generation { get; init; }

    /// <summary>As the API server writes it (RFC 3339); kept as text, read by <see cref="CreatedAt"/>.</summary>
    public string? CreationTimestamp { get; init; }

    /// <summary><see cref="CreationTimestamp"/> as a time; null when absent (manifests) or not a time.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? CreatedAt =>
        DateTimeOffset.TryParse(CreationTimestamp, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    public IReadOnlyList<OwnerReference> OwnerReferences { get; init => field = NullSafe.List(value); } = [];

    internal static readonly IReadOnlyDictionary<string, string> EmptyMap = new Dictionary<string, string>();
}

/// <summary>A Kubernetes owner reference (used by generated routing objects).</summary>
public sealed record OwnerReference
{
    public string ApiVersion { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public string Uid { get; init; } = "";
    public bool? Controller { get; init; }
    public bool? BlockOwnerDeletion { get; init; }
}
