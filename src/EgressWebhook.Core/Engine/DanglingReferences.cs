using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Engine;

/// <summary>EGW114: deleting a ServiceEntry, Gateway or DestinationRule that a remaining VirtualService
/// still depends on. Found by asking the rules which VirtualServices the deleted object affects and
/// which findings they would gain without it.</summary>
internal static class DanglingReferences
{
    public static EgressReport Check(EgressEngine engine, EgressSnapshot snapshot, EgressObject deleted, RuleSettings policy, CancellationToken budget)
    {
        var after = SnapshotView.Without(snapshot, deleted.Key, budget);
        if (deleted.ResourceKind is not (ResourceKind.ServiceEntry or ResourceKind.Gateway or ResourceKind.DestinationRule))
        {
            return new EgressReport([], after.Count);
        }

        var stored = snapshot.Find(deleted.Key) ?? deleted;
        var before = SnapshotView.With(snapshot, stored, budget);

        // the dependents' own rules are judged with their default severities: turning EGW101 off must not hide
        // that a delete leaves a VirtualService without its destination
        var inner = policy with { Overrides = new Dictionary<string, Enforcement>(), WarnOnly = false };
        var context = new RuleContext(after, policy);
        foreach (var f in engine.CausedBy(null, stored, before, after, inner))
        {
            if (f.Object.Kind != nameof(ResourceKind.VirtualService))
            {
                continue;
            }

            context.Report(RuleIds.DeleteLeavesDanglingReference, Severity.Warning, deleted, PathOf(deleted),
                $"used by {f.Object} ({f.Rule} {f.Path}); fix it first", f.Object);
        }

        return new EgressReport(EgressEngine.Sorted(context.Findings), after.Count);
    }

    private static string PathOf(EgressObject deleted) => deleted switch
    {
        ServiceEntry => "spec.hosts",
        DestinationRule => "spec.subsets",
        _ => "metadata.name",
    };
}
