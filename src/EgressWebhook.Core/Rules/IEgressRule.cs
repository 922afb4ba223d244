using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules;

/// <summary>A rule: checks one subject object against a view of the snapshot. Pure and stateless.</summary>
public interface IEgressRule
{
    /// <summary>The rule ids this rule can report.</summary>
    IReadOnlyList<string> Ids { get; }

    /// <summary>Whether objects of <paramref name="kind"/> are subjects of this rule.</summary>
    bool AppliesTo(ResourceKind kind);

    /// <summary>Reports the findings about <paramref name="subject"/>.</summary>
    void Check(EgressObject subject, RuleContext context);

    /// <summary>Other objects whose findings of this rule may change when <paramref name="changed"/> is
    /// created, updated or deleted (found through the view's indexes; the webhook reports findings these
    /// gain as "caused by" the change).</summary>
    IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => [];

    /// <summary>The kinds whose absence (or content) this rule's findings rest on, whatever their severity: before a
    /// live-cluster decision trusts such a finding, the admission shell reads these kinds directly, since the cache may
    /// not yet hold an object written a moment ago (read your writes). A finding does not name the missing object, so
    /// the whole kind is read. Empty for rules that judge the subject alone.</summary>
    IReadOnlyList<ResourceKind> RestsOnMissing => [];
}
