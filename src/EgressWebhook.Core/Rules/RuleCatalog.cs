namespace EgressWebhook.Core.Rules;

/// <summary>Every rule of the catalogue, in id order. A new rule is one file plus one line here.</summary>
public static class RuleCatalog
{
    public static IReadOnlyList<IEgressRule> All { get; } =
    [
    ];
}
