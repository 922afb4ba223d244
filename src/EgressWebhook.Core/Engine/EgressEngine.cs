using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.PerObject;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Engine;

/// <summary>Runs the rules: over a whole snapshot (CLI, audit) or for one change against a snapshot (webhook).</summary>
/// <remarks>One gate before every other rule: an object with a list longer than Istio's CRD allows (EGW210, when it is
/// an error) gets that finding alone; no other rule runs on it and, for a change, no dependent is re-checked. The API
/// server refuses such an object anyway, and those lists are what make the cross-resource rules of a 3 MiB object slow.
/// Deciding it costs one look at each bounded list's length (<see cref="SchemaLimits"/>).</remarks>
public sealed class EgressEngine
{
    private readonly Dictionary<ResourceKind, IEgressRule[]> _byKind;

    // EGW210's rule when the engine has it: the gate
    private readonly Egw210ListOverSchemaLimit? _limits;

    public EgressEngine(IEnumerable<IEgressRule> rules)
    {
        Rules = rules.ToArray();
        _byKind = Enum.GetValues<ResourceKind>().ToDictionary(k => k, k => Rules.Where(r => r.AppliesTo(k)).ToArray());
        _limits = Rules.OfType<Egw210ListOverSchemaLimit>().FirstOrDefault();
    }

    /// <summary>The engine with every rule of the catalogue.</summary>
    public static EgressEngine Default { get; } = new(RuleCatalog.All);

    public IReadOnlyList<IEgressRule> Rules { get; }

    /// <summary>Checks every object of <paramref name="snapshot"/>.</summary>
    public EgressReport CheckAll(EgressSnapshot snapshot, RuleSettings policy)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(policy);
        var context = new RuleContext(SnapshotView.Of(snapshot), policy);
        foreach (var obj in snapshot.Objects)
        {
            if (OverLimits(obj, null, policy) is { } excess)
            {
                Egw210ListOverSchemaLimit.Report(obj, excess, context);
                continue;
            }

            foreach (var rule in _byKind[obj.ResourceKind])
            {
                rule.Check(obj, context);
            }
        }

        return new EgressReport(Sorted(context.Findings), snapshot.Count);
    }

    /// <summary>The findings about <paramref name="obj"/> alone in <paramref name="view"/> (its own rules, no dependents).
    /// The object is stored (a re-check of an admitted object), so EGW210's gate does not apply: the API server let its
    /// lists stay (ratcheting), and the re-check must see its other findings.</summary>
    public IReadOnlyList<Finding> CheckObject(SnapshotView view, EgressObject obj, RuleSettings policy)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(policy);
        var context = new RuleContext(view, policy);
        foreach (var rule in _byKind[obj.ResourceKind])
        {
            rule.Check(obj, context);
        }

        return Sorted(context.Findings);
    }

    /// <summary>Checks one change against <paramref name="snapshot"/>: the findings about the object, and
    /// the findings it causes on objects that depend on it. A delete reports only EGW114.</summary>
    /// <param name="snapshot">The state without the change.</param>
    /// <param name="change">The change under review.</param>
    /// <param name="policy">Enforcement.</param>
    /// <param name="budget">The request's deadline: checked between rules, between dependent objects and on every index
    /// query, so that a hostile object cannot keep the check running past it.</param>
    /// <exception cref="OperationCanceledException">The budget was spent before the check finished.</exception>
    public EgressReport CheckChange(EgressSnapshot snapshot, ObjectChange change, RuleSettings policy, CancellationToken budget = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(policy);

        if (change.Operation == Operation.Delete)
        {
            var deleted = change.OldObject ?? change.Object;
            return deleted is null
                ? new EgressReport([], snapshot.Count)
                : DanglingReferences.Check(this, snapshot, deleted, policy, budget);
        }

        if (change.Object is not { } obj)
        {
            return new EgressReport([], snapshot.Count);
        }

        var after = SnapshotView.With(snapshot, obj, budget);
        var old = change.OldObject ?? snapshot.Find(obj.Key);
        var context = new RuleContext(after, policy);
        // judged against the old version: a list an UPDATE leaves at its length is not (SchemaLimits.FirstOver)
        var excess = _limits is null ? null : SchemaLimits.FirstOver(obj, old);
        if (excess is not null && OverLimits(obj, old, policy) is not null)
        {
            // refused for its size: no other rule, no dependent (and no comparison of the two versions)
            Egw210ListOverSchemaLimit.Report(obj, excess, context);
            return new EgressReport(Sorted(context.Findings), after.Count);
        }

        var before = old is null ? SnapshotView.Without(snapshot, obj.Key, budget) : SnapshotView.With(snapshot, old, budget);
        foreach (var rule in _byKind[obj.ResourceKind])
        {
            budget.ThrowIfCancellationRequested();
            if (ReferenceEquals(rule, _limits))
            {
                // a warning (or off): reported as found against the old version, and every other rule runs
                if (excess is not null)
                {
                    Egw210ListOverSchemaLimit.Report(obj, excess, context);
                }

                continue;
            }

            rule.Check(obj, context);
        }

        var findings = new List<Finding>(context.Findings);
        // an UPDATE that leaves every rule's input as it was cannot change a finding about another object
        if (old is null || !RuleInputs.Same(old, obj, budget))
        {
            findings.AddRange(CausedBy(obj, old, before, after, policy));
        }

        budget.ThrowIfCancellationRequested();
        return new EgressReport(Sorted(findings), after.Count);
    }

    /// <summary>Findings that objects depending on the change gain: present in <paramref name="after"/>, absent in <paramref name="before"/>.</summary>
    internal IEnumerable<Finding> CausedBy(EgressObject? changed, EgressObject? old, SnapshotView before, SnapshotView after, RuleSettings policy)
    {
        var affected = new Dictionary<ObjectKey, List<IEgressRule>>();
        var changedKey = (changed ?? old)?.Key;
        foreach (var rule in Rules)
        {
            after.Budget.ThrowIfCancellationRequested();
            Collect(rule, changed is null ? [] : rule.AffectedBy(changed, after));
            Collect(rule, old is null ? [] : rule.AffectedBy(old, before));
        }

        var beforeContext = new RuleContext(before, policy);
        var afterContext = new RuleContext(after, policy);
        foreach (var (key, rules) in affected.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal))
        {
            if (after.Find(key) is not { } now)
            {
                continue;
            }

            var then = before.Find(key) ?? now;
            beforeContext.Clear();
            afterContext.Clear();
            foreach (var rule in rules)
            {
                after.Budget.ThrowIfCancellationRequested();
                rule.Check(then, beforeContext);
                rule.Check(now, afterContext);
            }

            var had = new HashSet<Finding>(beforeContext.Findings, Finding.Identity);
            foreach (var f in afterContext.Findings)
            {
                if (!had.Contains(f))
                {
                    yield return f;
                }
            }
        }

        void Collect(IEgressRule rule, IEnumerable<EgressObject> objects)
        {
            foreach (var o in objects)
            {
                if (o.Key == changedKey || !rule.AppliesTo(o.ResourceKind))
                {
                    continue;
                }

                if (!affected.TryGetValue(o.Key, out var list))
                {
                    affected[o.Key] = list = [];
                }

                if (!list.Contains(rule))
                {
                    list.Add(rule);
                }
            }
        }
    }

    /// <summary>What EGW210 refuses in <paramref name="obj"/> (an UPDATE's lists judged against <paramref name="old"/>)
    /// when the engine has the rule and <paramref name="policy"/> makes it an error; null otherwise (also when it is a
    /// warning: the object may then be admitted, so every rule runs). The gate of <see cref="CheckChange"/>, which the
    /// admission pipeline also asks before it plans routing for the object or mutates it.</summary>
    internal SchemaLimits.Excess? OverLimits(EgressObject obj, EgressObject? old, RuleSettings policy) =>
        _limits is not null && _limits.AppliesTo(obj.ResourceKind) && policy.Apply(RuleIds.ListOverSchemaLimit, Severity.Error) == Severity.Error
            ? SchemaLimits.FirstOver(obj, old)
            : null;

    internal static IReadOnlyList<Finding> Sorted(IEnumerable<Finding> findings)
    {
        var list = new List<Finding>();
        var seen = new HashSet<Finding>(Finding.Identity);
        foreach (var f in findings)
        {
            if (seen.Add(f))
            {
                list.Add(f);
            }
        }

        list.Sort(Finding.Order);
        return list;
    }
}
