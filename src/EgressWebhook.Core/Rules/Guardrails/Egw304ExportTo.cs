using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW304: a ServiceEntry, VirtualService or DestinationRule exports to namespaces an EgressPolicy selecting its
/// namespace does not allow (<c>spec.exportTo.allowed</c>: <c>self</c> for the object's own namespace, <c>*</c>, or names).</summary>
/// <remarks>An empty <c>exportTo</c> is the mesh default (<c>defaultServiceExportTo</c> and its siblings), which is
/// <c>*</c> unless the mesh config says otherwise: leaving it unset exports to every namespace. <c>~</c> (none) is
/// always allowed.</remarks>
internal sealed class Egw304ExportTo : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyExportTo];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.ServiceEntry or ResourceKind.VirtualService or ResourceKind.DestinationRule;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        var (written, meshDefault) = subject switch
        {
            ServiceEntry se => (se.Spec.ExportTo, context.Mesh.DefaultServiceExportTo),
            VirtualService vs => (vs.Spec.ExportTo, context.Mesh.DefaultVirtualServiceExportTo),
            DestinationRule dr => (dr.Spec.ExportTo, context.Mesh.DefaultDestinationRuleExportTo),
            _ => ((IReadOnlyList<string>)[], (IReadOnlyList<string>)[]),
        };
        foreach (var policy in context.Policies.Selecting(subject.Namespace))
        {
            if (policy.Spec.ExportTo is not { } guard)
            {
                continue;
            }

            var defaulted = written.Count == 0;
            IReadOnlyList<string> effective = !defaulted ? written : meshDefault.Count > 0 ? meshDefault : ["*"];
            for (var i = 0; i < effective.Count; i++)
            {
                var entry = effective[i];
                if (Allowed(entry, subject.Namespace, guard.Allowed))
                {
                    continue;
                }

                var what = defaulted ? $"unset exportTo (mesh default {entry})" : $"exportTo {entry}";
                // the allowed entries are named once: in the fix when it lists them, else beside the refused one
                var self = Allowed(".", subject.Namespace, guard.Allowed);
                var allows = self ? $" (allows {string.Join(",", guard.Allowed.Take(3))}{(guard.Allowed.Count > 3 ? ",…" : "")})" : "";
                context.ReportPolicy(policy, null, RuleIds.PolicyExportTo, subject, defaulted ? "spec.exportTo" : $"spec.exportTo[{i}]",
                    $"{what} not allowed{allows}; set exportTo: {Suggested(self, guard.Allowed)} (EgressPolicy {policy.Name})");
                break;
            }
        }
    }

    /// <summary>What to write instead: the own namespace when the policy allows it, else the namespaces it names.</summary>
    private static string Suggested(bool self, IReadOnlyList<string> allowed)
    {
        if (self)
        {
            return "[\".\"]";
        }

        var named = allowed.Where(a => a is not ("self" or "." or "~")).Take(3).ToList();
        return named.Count > 0 ? $"[{string.Join(", ", named)}]" : "[\"~\"]";
    }

    private static bool Allowed(string entry, string ns, IReadOnlyList<string> allowed)
    {
        if (entry == "~")
        {
            return true;
        }

        // "." and the object's own name for its namespace are the same export, however either side writes it
        var self = entry == "." || entry == ns;
        foreach (var a in allowed)
        {
            if (a == "*" || a == entry || (self && (a is "self" or "." || a == ns)))
            {
                return true;
            }
        }

        return false;
    }
}
