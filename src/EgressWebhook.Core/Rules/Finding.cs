using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules;

/// <summary>How serious a finding is: an error denies (CLI exit 1), a warning is reported.</summary>
public enum Severity
{
    Warning,
    Error,
}

/// <summary>One broken link, as data.</summary>
/// <param name="Rule">Rule id, e.g. <c>EGW105</c>.</param>
/// <param name="Severity">After the policy's overrides.</param>
/// <param name="Object">The object the finding is about.</param>
/// <param name="Path">Field path in that object, e.g. <c>spec.tls[0].match[0].port</c>.</param>
/// <param name="Message">Headline (at most <see cref="MaxHeadline"/> characters) naming both ends of the link and the fix.</param>
/// <param name="Related">The other objects of the link.</param>
public sealed record Finding(string Rule, Severity Severity, ObjectRef Object, string Path, string Message, IReadOnlyList<ObjectRef> Related)
{
    /// <summary>Kubernetes truncates longer warnings.</summary>
    public const int MaxHeadline = 120;

    /// <summary>Orders findings by object, path, rule and message.</summary>
    public static IComparer<Finding> Order { get; } = Comparer<Finding>.Create(static (a, b) =>
    {
        var c = a.Object.CompareTo(b.Object);
        if (c == 0)
        {
            c = string.CompareOrdinal(a.Path, b.Path);
        }

        if (c == 0)
        {
            c = string.CompareOrdinal(a.Rule, b.Rule);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Message, b.Message);
    });

    /// <summary>Shortens a headline to <see cref="MaxHeadline"/> characters.</summary>
    public static string Clamp(string message) =>
        message.Length <= MaxHeadline ? message : string.Concat(message.AsSpan(0, MaxHeadline - 1), "…");

    /// <summary>Equality by <see cref="SameAs"/>, for sets of findings.</summary>
    public static IEqualityComparer<Finding> Identity { get; } = new SameFinding();

    /// <summary>Same finding (rule, object, path, message), whatever its severity or related objects.</summary>
    public bool SameAs(Finding other) =>
        Rule == other.Rule && Object == other.Object && Path == other.Path && Message == other.Message;

    private sealed class SameFinding : IEqualityComparer<Finding>
    {
        public bool Equals(Finding? x, Finding? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.SameAs(y));

        public int GetHashCode(Finding obj) => HashCode.Combine(obj.Rule, obj.Object, obj.Path, obj.Message);
    }
}
