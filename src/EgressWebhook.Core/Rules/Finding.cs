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

    /// <summary>Shortens a headline to <see cref="MaxHeadline"/> characters.</summary>
    public static string Clamp(string message) =>
        message.Length <= MaxHeadline ? message : string.Concat(message.AsSpan(0, MaxHeadline - 1), "…");

    /// <summary>Same finding (rule, object, path, message), whatever its severity or related objects.</summary>
    public bool SameAs(Finding other) =>
        Rule == other.Rule && Object == other.Object && Path == other.Path && Message == other.Message;
}
