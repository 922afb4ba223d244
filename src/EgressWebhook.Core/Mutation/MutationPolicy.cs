namespace EgressWebhook.Core.Mutation;

/// <summary>The platform's settings for egress-gateway routing (<c>Webhook:Mutation:*</c>).</summary>
public sealed record MutationPolicy
{
    public static MutationPolicy Default { get; } = new();

    /// <summary>Cluster-wide default gateway <c>&lt;namespace&gt;/&lt;gateway Service&gt;</c> for every ServiceEntry
    /// not opted out; null when routing is opt-in per namespace or entry only.</summary>
    public string? DefaultGateway { get; init; }

    /// <summary>The mesh runs Istio 1.28+ (DYNAMIC_DNS in the ServiceEntry CRD): an opted-in wildcard entry in an ambient
    /// namespace gets <c>resolution: DYNAMIC_DNS</c> and its waypoint label (<see cref="AmbientDynamicDns"/>). Off by default,
    /// since an older CRD refuses the value and with it the entry.</summary>
    public bool DynamicDns { get; init; }
}
