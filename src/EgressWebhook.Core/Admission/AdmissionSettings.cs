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

/// <summary>What admission does with a finding that rests on a missing object (an incompleteness).</summary>
public enum ChainEnforcement
{
    /// <summary>Admit with a warning that names what is awaited, and re-check after the grace period: a later write of
    /// the same apply may create it (one <c>kubectl apply -f</c> of a folder, a GitOps sync, the generator).</summary>
    Tolerant,

    /// <summary>Deny it, as the offline check does.</summary>
    Strict,
}

/// <summary>The admission policy: rule enforcement, exempt namespaces, failure mode, mutation defaults. Built by the server from its options.</summary>
public sealed record AdmissionSettings
{
    public static AdmissionSettings Default { get; } = new();

    public RuleSettings Policy { get; init; } = RuleSettings.Default;

    /// <summary>Namespaces whose objects are allowed unchecked.</summary>
    public IReadOnlySet<string> ExemptNamespaces { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public FailureMode FailureMode { get; init; } = FailureMode.Deny;

    /// <summary><c>Webhook:Enforcement</c>: whether incompleteness denies (per rule: <see cref="Enforcement.Strict"/>).</summary>
    public ChainEnforcement Enforcement { get; init; } = ChainEnforcement.Tolerant;

    /// <summary><c>Webhook:GracePeriod</c>: how long an admitted incompleteness may wait for what it rests on.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether an error of <paramref name="rule"/> that rests on a missing object still denies.</summary>
    public bool IsStrict(string rule) => Enforcement == ChainEnforcement.Strict || Policy.IsStrict(rule);

    /// <summary>Egress-gateway routing settings for <c>/mutate</c> (<c>Webhook:Mutation:*</c>).</summary>
    public MutationPolicy Mutation { get; init; } = MutationPolicy.Default;
}
