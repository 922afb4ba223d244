namespace EgressWebhook.Core.Mutation;

/// <summary>The platform's settings for egress-gateway routing (<c>Webhook:Mutation:*</c>).</summary>
public sealed record MutationPolicy
{
    public static MutationPolicy Default { get; } = new();

    /// <summary>Cluster-wide default gateway <c>&lt;namespace&gt;/&lt;gateway Service&gt;</c> for every ServiceEntry
    /// not opted out; null when routing is opt-in per namespace or entry only.</summary>
    public string? DefaultGateway { get; init; }
}
