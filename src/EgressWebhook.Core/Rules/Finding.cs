using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules;

/// <summary>How serious a finding is: an error denies (CLI exit 1), a warning is reported.</summary>
public enum Severity
{
    Warning,
    Error,
}

/// <summary>What a finding rests on: objects that exist and disagree, or an object that is missing (yet).</summary>
public enum FindingKind
{
    /// <summary>Between objects that exist (a port, protocol, TLS mode, host binding, a subset the DestinationRule found
    /// does not define): no later write of the same apply removes it by adding something.</summary>
    Contradiction,

    /// <summary>Rests on something missing that a later write of the same apply may create (a ServiceEntry, a Gateway,
    /// the other leg, the gateway Service, a DestinationRule).</summary>
    Incompleteness,
}

/// <summary>The missing object an incompleteness waits for.</summary>
/// <param name="Kind">Its kind.</param>
/// <param name="What">What it must be, for the warning: <c>the gateway leg for edition.cnn.com</c>.</param>
public sealed record Awaited(ResourceKind Kind, string What)
{
    /// <summary>The awaited object itself when the finding names it (a Gateway by <c>ns/name</c>, a ServiceEntry a
    /// policy targets by name): the shell then confirms the absence with one get by name (a 404) instead of reading the
    /// kind. Null when any object of <see cref="Kind"/> that matches would do (a ServiceEntry for a host).</summary>
    public ObjectKey? Key { get; init; }

    /// <summary>An awaited object known by name.</summary>
    public static Awaited Named(ResourceKind kind, string ns, string name, string what) => new(kind, what) { Key = new ObjectKey(kind, ns, name) };

    /// <summary>The registry object a host needs: a Service for a cluster-local host, else a ServiceEntry.</summary>
    public static Awaited RegistryObjectFor(string host) => HostName.IsClusterLocal(host)
        ? new Awaited(ResourceKind.Service, $"a Service for {host}")
        : new Awaited(ResourceKind.ServiceEntry, $"a ServiceEntry for {host}");
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
    /// <summary>For an incompleteness, the object it waits for; null for a contradiction.</summary>
    public Awaited? Awaits { get; init; }

    /// <summary>For a guardrail finding (EGW3xx), the name of the EgressPolicy that reports it; null otherwise.</summary>
    public string? Policy { get; init; }

    /// <summary>Reported by a policy whose action is <c>Audit</c>: recorded (audit line, report), never an admission
    /// warning or a denial. Its severity is <see cref="Severity.Warning"/>.</summary>
    public bool Audit { get; init; }

    /// <summary>Contradiction or incompleteness, from <see cref="Awaits"/>.</summary>
    public FindingKind Kind => Awaits is null ? FindingKind.Contradiction : FindingKind.Incompleteness;

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

    /// <summary>What kubectl puts before every admission warning; it counts against the 120 characters a user sees.</summary>
    public const string KubectlPrefix = "Warning: ";

    /// <summary>Shortens a headline to <see cref="MaxHeadline"/> characters (<see cref="Shorten"/>: the fix is kept).</summary>
    public static string Clamp(string message) => Shorten(message, MaxHeadline);

    /// <summary>Shortens <paramref name="message"/> to <paramref name="max"/> characters without cutting its fix: the part
    /// after the last <c>"; "</c> stays whole and the description before it loses its end (marked <c>…</c>). Only a fix
    /// longer than the whole budget is cut itself.</summary>
    public static string Shorten(string message, int max)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Length <= max)
        {
            return message;
        }

        var split = message.LastIndexOf("; ", StringComparison.Ordinal);
        var fix = split < 0 ? "" : message[split..];
        var keep = max - fix.Length - 1;
        return keep >= 8
            ? string.Concat(message.AsSpan(0, keep), "…", fix)
            : string.Concat(message.AsSpan(0, max - 1), "…");
    }

    /// <summary>The admission warning of this finding, <c>EGW105 VirtualService ns/name: headline</c>, short enough that
    /// kubectl's line (<see cref="KubectlPrefix"/> included) fits <see cref="MaxHeadline"/>: the object's name is
    /// shortened first (to its namespace and an elided name, then to its kind), then the description; never the fix.</summary>
    public string WarningLine()
    {
        var budget = MaxHeadline - KubectlPrefix.Length;
        var full = $"{Rule} {Object}: {Message}";
        if (full.Length <= budget)
        {
            return full;
        }

        // the object keeps what the message leaves it, and at least its kind, namespace and the start of its name as long
        // as the message keeps its fix and some of its description; else it is cut down to its kind
        const int minObject = 36;
        const int minDescription = 16;
        var name = Object.ToString();
        var split = Message.LastIndexOf("; ", StringComparison.Ordinal);
        var needed = Math.Min(Message.Length, (split < 0 ? 0 : Message.Length - split) + 1 + minDescription);
        var room = Math.Max(budget - Rule.Length - 3 - Message.Length,
            Math.Max(Object.Kind.Length, Math.Min(Math.Min(name.Length, minObject), budget - Rule.Length - 3 - needed)));
        string shortObject;
        if (room >= name.Length)
        {
            shortObject = name;
        }
        else
        {
            var prefix = Object.Namespace.Length == 0 ? $"{Object.Kind} " : $"{Object.Kind} {Object.Namespace}/";
            var left = room - prefix.Length - 1;
            shortObject = left >= 4 ? string.Concat(prefix, Object.Name.AsSpan(0, left), "…") : string.Concat(name.AsSpan(0, room - 1), "…");
        }

        var head = $"{Rule} {shortObject}: ";
        return head + Shorten(Message, budget - head.Length);
    }

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
