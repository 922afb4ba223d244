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
