namespace EgressWebhook.Core.Rules;

/// <summary>What to do with a rule's findings.</summary>
public enum Enforcement
{
    /// <summary>Report as an error: the webhook denies, the CLI fails.</summary>
    Deny,

    /// <summary>Report as a warning.</summary>
    Warn,

    /// <summary>Do not report.</summary>
    Off,

    /// <summary>As <see cref="Deny"/>, and admission denies it even when it rests on an object that is missing yet
    /// (an incompleteness), as the offline check does.</summary>
    Strict,
}

/// <summary>The platform's policy the engine takes: outbound mode override and per-rule enforcement.</summary>
public sealed record RuleSettings
{
    public static RuleSettings Default { get; } = new();

    /// <summary><c>ALLOW_ANY</c> or <c>REGISTRY_ONLY</c> in place of the mesh config's; null to use the mesh config.</summary>
    public string? OutboundPolicy { get; init; }

    /// <summary>Per-rule enforcement; rules not listed keep their default severity.</summary>
    public IReadOnlyDictionary<string, Enforcement> Overrides { get; init; } = new Dictionary<string, Enforcement>();

    /// <summary>Every rule as a warning (audit-only rollout); explicit <see cref="Overrides"/> still win.</summary>
    public bool WarnOnly { get; init; }

    /// <summary>The snapshot is the whole cluster (the webhook's live cache), not possibly partial manifests: a
    /// referenced object that is not in it does not exist, even when it holds no object of that kind at all.</summary>
    public bool WholeCluster { get; init; }

    /// <summary>Whether <paramref name="rule"/> is set to <see cref="Enforcement.Strict"/>.</summary>
    public bool IsStrict(string rule) => Overrides.TryGetValue(rule, out var enforcement) && enforcement == Enforcement.Strict;

    /// <summary>The severity a finding gets, or null when the rule is off.</summary>
    public Severity? Apply(string rule, Severity severity)
    {
        if (Overrides.TryGetValue(rule, out var enforcement))
        {
            return enforcement switch
            {
                Enforcement.Deny or Enforcement.Strict => Severity.Error,
                Enforcement.Warn => Severity.Warning,
                _ => null,
            };
        }

        return WarnOnly ? Severity.Warning : severity;
    }
}
