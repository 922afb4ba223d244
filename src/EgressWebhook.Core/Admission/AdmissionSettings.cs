using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Admission;

/// <summary>What the webhook does when the check itself cannot run (a rule throws, no snapshot yet, deadline passed).</summary>
public enum FailureMode
{
    /// <summary>Refuse the change: a broken check must not let a broken configuration through.</summary>
    Deny,

    /// <summary>Let the change through with a warning.</summary>
    Allow,
}

/// <summary>The admission policy: rule enforcement, exempt namespaces, failure mode, mutation defaults. Built by the server from its options.</summary>
public sealed record AdmissionSettings
{
    public static AdmissionSettings Default { get; } = new();

    public EgressPolicy Policy { get; init; } = EgressPolicy.Default;

    /// <summary>Namespaces whose objects are allowed unchecked.</summary>
    public IReadOnlySet<string> ExemptNamespaces { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public FailureMode FailureMode { get; init; } = FailureMode.Deny;

    /// <summary>Egress-gateway routing settings for <c>/mutate</c> (<c>Webhook:Mutation:*</c>).</summary>
    public MutationPolicy Mutation { get; init; } = MutationPolicy.Default;
}
