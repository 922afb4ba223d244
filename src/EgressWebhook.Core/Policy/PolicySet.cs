using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Policy;

/// <summary>The EgressPolicies of a view, and which of them select a namespace. Policies combine by intersection:
/// every policy that selects a namespace must allow what an object of it opens, and each one that does not reports
/// its own finding with its own action (docs/policy.md). A policy with structural problems (EGW308) is not enforced.</summary>
public sealed class PolicySet
{
    private readonly EgressPolicy[] _enforced;
    private readonly SnapshotView _view;
    private Dictionary<string, IReadOnlyList<EgressPolicy>>? _byNamespace;

    private PolicySet(SnapshotView view, IReadOnlyList<EgressPolicy> all)
    {
        _view = view;
        All = all;
        _enforced = all.Where(p => !PolicyValidator.Problems(p).Any()).ToArray();
    }

    /// <summary>Every policy of the view, by name.</summary>
    public IReadOnlyList<EgressPolicy> All { get; }

    /// <summary>Whether the view holds no enforceable policy (the common case: every guardrail rule returns at once).</summary>
    public bool IsEmpty => _enforced.Length == 0;

    /// <summary>The policies of <paramref name="view"/>.</summary>
    public static PolicySet Of(SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        // the common case, a view without any policy, is answered without sorting or validating anything
        return view.HasAny(ResourceKind.EgressPolicy)
            ? new PolicySet(view, view.OfKind<EgressPolicy>(ResourceKind.EgressPolicy).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray())
            : new PolicySet(view, []);
    }

    /// <summary>The enforceable policies that select namespace <paramref name="ns"/> (its labels from the view, with
    /// <c>kubernetes.io/metadata.name</c> always set).</summary>
    public IReadOnlyList<EgressPolicy> Selecting(string ns)
    {
        if (_enforced.Length == 0)
        {
            return [];
        }

        _byNamespace ??= new Dictionary<string, IReadOnlyList<EgressPolicy>>(StringComparer.Ordinal);
        if (!_byNamespace.TryGetValue(ns, out var result))
        {
            var labels = _view.NamespaceLabels(ns);
            _byNamespace[ns] = result = _enforced.Where(p => p.Spec.NamespaceSelector is not { } sel || sel.Matches(labels)).ToArray();
        }

        return result;
    }

    /// <summary>The severity a finding of <paramref name="policy"/> gets: Deny an error, Warn and Audit a warning (Audit
    /// findings are also marked <see cref="Finding.Audit"/>: recorded, never shown as an admission warning).</summary>
    public static Severity SeverityOf(EgressPolicy policy) =>
        PolicyActions.Parse(policy.Spec.Action) == PolicyActions.Deny ? Severity.Error : Severity.Warning;

    /// <summary>Whether <paramref name="policy"/> only records.</summary>
    public static bool IsAudit(EgressPolicy policy) => PolicyActions.Parse(policy.Spec.Action) == PolicyActions.Audit;

    /// <summary>Whether <paramref name="policy"/> lets a namespace open <paramref name="host"/> (resolved) on
    /// <paramref name="port"/> with <paramref name="protocol"/> (null: not known, not restricted). A policy without
    /// <c>allow</c> restricts no host.</summary>
    public static bool Allows(EgressPolicy policy, string host, int? port, string? protocol)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Spec.Allow is not { } rules)
        {
            return true;
        }

        foreach (var rule in rules)
        {
            if (rule.Hosts.Any(g => Covers(g, host)) &&
                (port is null || rule.Ports.Count == 0 || rule.Ports.Contains(port.Value)) &&
                (protocol is null || rule.Protocols.Count == 0 || rule.Protocols.Any(p => Protocols.Is(protocol, p))))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the allow glob <paramref name="glob"/> covers every name <paramref name="host"/> stands for.</summary>
    public static bool Covers(string glob, string host) => HostName.SubsetOf(host, glob);

    /// <summary>What <paramref name="policy"/> allows, short: <c>*.example.com:443 TLS/HTTPS</c>, <c>nothing</c>, <c>any host</c>.</summary>
    public static string DescribeAllowed(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Spec.Allow is not { } rules)
        {
            return "any host";
        }

        if (rules.Count == 0 || rules[0].Hosts.Count == 0)
        {
            return "nothing";
        }

        var first = rules[0];
        var text = string.Join(",", first.Hosts.Take(2)) + (first.Hosts.Count > 2 ? ",…" : "");
        if (first.Ports.Count > 0)
        {
            text += ":" + string.Join(",", first.Ports.Take(3));
        }

        if (first.Protocols.Count > 0)
        {
            text += " " + string.Join("/", first.Protocols.Take(3));
        }

        return rules.Count > 1 ? $"{text} +{rules.Count - 1} more" : text;
    }

    /// <summary><c>namespace/name</c> split; null when it is not of that form.</summary>
    public static (string Namespace, string Name)? SplitRef(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var slash = value.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 || slash == value.Length - 1 || value.IndexOf('/', slash + 1) >= 0 ? null : (value[..slash], value[(slash + 1)..]);
    }
}
