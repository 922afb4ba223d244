using System.Runtime.InteropServices;
using FluentValidation;
using FluentValidation.Results;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>Builds the <see cref="ValidationFailure"/>s the per-object validators add from <c>Custom</c> rules,
/// with the rule id as error code and a property path (<c>Spec.Ports[1].Number</c>) that
/// <see cref="ValidatorRule{T}"/> turns into the manifest path.</summary>
internal static class Failures
{
    public static ValidationFailure Error(string rule, string propertyPath, string message) =>
        new(propertyPath, message) { ErrorCode = rule, Severity = FluentValidation.Severity.Error };

    public static ValidationFailure Warning(string rule, string propertyPath, string message) =>
        new(propertyPath, message) { ErrorCode = rule, Severity = FluentValidation.Severity.Warning };

    private const string CountsKey = "EgressWebhook.FailureCounts";

    /// <summary>Whether a failure of <paramref name="rule"/> about one item of the list at <paramref name="listPath"/>
    /// is to be formatted: yes for the first <see cref="FindingCap.PerRuleAndObject"/> of the rule in this validation,
    /// which the finding cap keeps; past them it adds a failure with no text in its place (same rule, severity and
    /// list, all that the cap's summary reads of it) and answers no, so that a list of 100,000 bad items costs no
    /// message per item.</summary>
    public static bool Admits<T>(ValidationContext<T> context, string rule, string listPath, FluentValidation.Severity severity = FluentValidation.Severity.Error)
    {
        if (!context.RootContextData.TryGetValue(CountsKey, out var stored) || stored is not Dictionary<string, int> counts)
        {
            context.RootContextData[CountsKey] = counts = new Dictionary<string, int>(StringComparer.Ordinal);
        }

        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, rule, out _);
        if (count++ < FindingCap.PerRuleAndObject)
        {
            return true;
        }

        context.AddFailure(new ValidationFailure(listPath, "") { ErrorCode = rule, Severity = severity });
        return false;
    }

    /// <summary><c>443/TLS</c>, or <c>443</c> when the protocol is unset.</summary>
    public static string Describe(int number, string? protocol) =>
        string.IsNullOrEmpty(protocol) ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{number}/{protocol}";

    /// <summary>The first few items, comma-separated (headlines must stay short).</summary>
    public static string List(IEnumerable<string> items, int max = 3)
    {
        var all = items.ToList();
        return all.Count <= max ? string.Join(", ", all) : string.Join(", ", all.Take(max)) + ", …";
    }
}
