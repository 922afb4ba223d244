using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>The mesh-wide settings the rules depend on (Istio <c>MeshConfig</c>), from ConfigMap
/// <c>istio-system/istio</c> key <c>mesh</c> or an <c>IstioOperator</c>'s <c>spec.meshConfig</c>.</summary>
public sealed record MeshConfig : EgressObject
{
    public const string DefaultRootNamespace = "istio-system";

    public static MeshConfig Default { get; } = new();

    public override ResourceKind ResourceKind => ResourceKind.MeshConfig;

    public OutboundTrafficPolicy? OutboundTrafficPolicy { get; init; }

    public string? RootNamespace { get; init; }

    public IReadOnlyList<string> DefaultServiceExportTo { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> DefaultVirtualServiceExportTo { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> DefaultDestinationRuleExportTo { get; init => field = NullSafe.List(value); } = [];

    public ProxyConfig? DefaultConfig { get; init; }

    [JsonIgnore]
    public string EffectiveRootNamespace => string.IsNullOrEmpty(RootNamespace) ? DefaultRootNamespace : RootNamespace;

    /// <summary>Outbound mode with Istio's default (ALLOW_ANY) applied.</summary>
    [JsonIgnore]
    public string EffectiveOutboundPolicy => OutboundPolicies.Parse(OutboundTrafficPolicy?.Mode) ?? OutboundPolicies.AllowAny;

    /// <summary>Whether the DNS proxy allocates addresses to ServiceEntries without <c>addresses</c>: it needs
    /// both <c>ISTIO_META_DNS_CAPTURE</c> and <c>ISTIO_META_DNS_AUTO_ALLOCATE</c> (the allocation is served by the
    /// DNS proxy, which only runs with capture on; Istio's IST0134 analyzer reads both).</summary>
    [JsonIgnore]
    public bool DnsAutoAllocate => ProxyMetadataIsTrue("ISTIO_META_DNS_CAPTURE") && ProxyMetadataIsTrue("ISTIO_META_DNS_AUTO_ALLOCATE");

    private bool ProxyMetadataIsTrue(string key) =>
        DefaultConfig?.ProxyMetadata.TryGetValue(key, out var v) == true &&
        string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);
}

public sealed record ProxyConfig
{
    public IReadOnlyDictionary<string, string> ProxyMetadata { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;
}
