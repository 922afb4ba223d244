using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Policy;

/// <summary>What admission does with guardrail findings before it answers: a policy's <c>spec.exceptions</c> (break-glass)
/// lets the requester through, and an Audit policy's findings are recorded only. Both stay in the decision
/// (<see cref="AdmissionDecision.Recorded"/>) for the audit line, never in the answer's warnings or denial.</summary>
internal static class PolicyAdmission
{
    /// <summary>Splits <paramref name="report"/> into what admission answers with and what it only records; the names of
    /// the policies whose exceptions matched <paramref name="user"/> come out as <paramref name="excepted"/>.</summary>
    public static (EgressReport Answered, IReadOnlyList<Finding> Recorded) Split(EgressReport report, UserInfo? user, EgressSnapshot snapshot,
        out IReadOnlyList<string> excepted)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(snapshot);
        excepted = [];
        if (!report.Findings.Any(f => f.Policy is not null))
        {
            return (report, []);
        }

        var answered = new List<Finding>(report.Findings.Count);
        var recorded = new List<Finding>();
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var f in report.Findings)
        {
            if (f.Policy is { } name && snapshot.Find(new ObjectKey(ResourceKind.EgressPolicy, "", name)) is EgressPolicy policy && IsExcepted(policy, user))
            {
                names.Add(name);
                recorded.Add(f);
            }
            else if (f.Audit)
            {
                recorded.Add(f);
            }
            else
            {
                answered.Add(f);
            }
        }

        excepted = [.. names];
        return (report with { Findings = answered }, recorded);
    }

    /// <summary>Whether <paramref name="user"/> is one of <paramref name="policy"/>'s exceptions: a listed group or user
    /// name, or a listed service account (<c>ns/name</c> is the user <c>system:serviceaccount:ns:name</c>).</summary>
    public static bool IsExcepted(EgressPolicy policy, UserInfo? user)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Spec.Exceptions is not { } exceptions || user is null)
        {
            return false;
        }

        if (user.Username is { Length: > 0 } name &&
            (exceptions.Users.Contains(name, StringComparer.Ordinal) ||
             exceptions.ServiceAccounts.Any(sa => PolicySet.SplitRef(sa) is { } r && name == $"system:serviceaccount:{r.Namespace}:{r.Name}")))
        {
            return true;
        }

        return user.Groups is { } groups && groups.Any(g => g is not null && exceptions.Groups.Contains(g, StringComparer.Ordinal));
    }
}
