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

    /// <summary>Istio 1.31 <c>serviceEntryVisibility</c>: a mesh-wide ceiling on where ServiceEntries are seen.</summary>
    public ServiceEntryVisibilityConfig? ServiceEntryVisibility { get; init; }

    /// <summary>Why Istio cannot load this mesh config (YAML that does not parse, a field of the wrong type), as
    /// found by the decoder; null when it decoded. Values Istio rejects are found by <see cref="Problem"/>.</summary>
    [JsonIgnore]
    public MeshConfigProblem? DecodeProblem { get; init; }

    /// <summary>What makes Istio reject this mesh config as a whole: a decode problem, an outbound mode or
    /// visibility that is no value of its enum (Istio's enums are case-sensitive); null when Istio can load it.</summary>
    [JsonIgnore]
    public MeshConfigProblem? Problem => DecodeProblem ?? ValueProblem();

    /// <summary>The config Istio runs with: this one, or its built-in defaults when it rejects this one.</summary>
    [JsonIgnore]
    public MeshConfig Effective => Problem is null ? this : Default;

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

    private MeshConfigProblem? ValueProblem()
    {
        if (OutboundTrafficPolicy?.Mode is { } mode && !OutboundPolicies.IsIstioMode(mode))
        {
            return new MeshConfigProblem("outboundTrafficPolicy.mode", $"unknown mode {mode}");
        }

        if (ServiceEntryVisibility is not { } sev)
        {
            return null;
        }

        if (sev.DefaultVisibility is { } d && !ServiceEntryVisibilities.IsValid(d))
        {
            return new MeshConfigProblem("serviceEntryVisibility.defaultVisibility", $"unknown visibility {d}");
        }

        for (var i = 0; i < sev.Policies.Count; i++)
        {
            if (sev.Policies[i]?.Visibility is { } v && !ServiceEntryVisibilities.IsValid(v))
            {
                return new MeshConfigProblem($"serviceEntryVisibility.policies[{i}].visibility", $"unknown visibility {v}");
            }
        }

        return null;
    }

    private bool ProxyMetadataIsTrue(string key) =>
        DefaultConfig?.ProxyMetadata.TryGetValue(key, out var v) == true &&
        string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);
}

public sealed record ProxyConfig
{
    public IReadOnlyDictionary<string, string> ProxyMetadata { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;
}

/// <summary>Why Istio rejects a mesh config: the field (under the config's root) and what is wrong with it.</summary>
public sealed record MeshConfigProblem(string Field, string Message);

/// <summary>Istio 1.31 <c>meshConfig.serviceEntryVisibility</c>.</summary>
public sealed record ServiceEntryVisibilityConfig
{
    /// <summary>PUBLIC (unset), NAMESPACE or NONE: the visibility of entries no policy matches.</summary>
    public string? DefaultVisibility { get; init; }

    public IReadOnlyList<ServiceEntryVisibilityPolicy> Policies { get; init => field = NullSafe.List(value); } = [];

    /// <summary>Whether sidecars and gateways (every Envoy proxy) honour it too; else only the ambient data plane does.</summary>
    public bool? ApplyToSidecars { get; init; }
}

/// <summary>One policy: the visibility of entries whose namespace matches every rule (an empty list matches all).</summary>
public sealed record ServiceEntryVisibilityPolicy
{
    public string? Visibility { get; init; }

    public IReadOnlyList<ServiceEntryVisibilityRule> MatchingRules { get; init => field = NullSafe.List(value); } = [];
}

public sealed record ServiceEntryVisibilityRule
{
    /// <summary>Matched against the labels of the entry's namespace; a rule without it never matches.</summary>
    public LabelSelector? NamespaceSelector { get; init; }
}

/// <summary>A Kubernetes label selector.</summary>
public sealed record LabelSelector
{
    public IReadOnlyDictionary<string, string> MatchLabels { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;

    public IReadOnlyList<LabelSelectorRequirement> MatchExpressions { get; init => field = NullSafe.List(value); } = [];

    /// <summary>Whether <paramref name="labels"/> satisfy the selector (every label and every expression).</summary>
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (k, v) in MatchLabels)
        {
            if (!labels.TryGetValue(k, out var actual) || actual != v)
            {
                return false;
            }
        }

        foreach (var e in MatchExpressions)
        {
            if (e is null)
            {
                continue;
            }

            var has = labels.TryGetValue(e.Key ?? "", out var value);
            var ok = e.Operator switch
            {
                "In" => has && e.Values.Contains(value!),
                "NotIn" => !has || !e.Values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}

public sealed record LabelSelectorRequirement
{
    public string? Key { get; init; }

    public string? Operator { get; init; }

    public IReadOnlyList<string> Values { get; init => field = NullSafe.List(value); } = [];
}

/// <summary>ServiceEntry visibility values of <see cref="ServiceEntryVisibilityConfig"/>.</summary>
internal static class ServiceEntryVisibilities
{
    public const string Public = "PUBLIC";
    public const string Namespace = "NAMESPACE";
    public const string None = "NONE";

    public static bool IsValid(string value) => value is Public or Namespace or None or "VISIBILITY_UNSPECIFIED";
}
