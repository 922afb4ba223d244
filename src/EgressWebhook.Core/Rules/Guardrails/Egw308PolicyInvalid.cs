using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW308: an EgressPolicy that cannot be enforced: a bad host glob, selector or action, parts that contradict
/// each other (<see cref="PolicyValidator"/>), or a <c>requiredGateway</c> that names no Service. Always an error: the
/// webhook refuses to store it, and a policy with a structural problem is not enforced by the CLI either.</summary>
internal sealed class Egw308PolicyInvalid : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyInvalid];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.Service];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.EgressPolicy;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        if (subject is not EgressPolicy policy)
        {
            return;
        }

        foreach (var problem in PolicyValidator.Problems(policy))
        {
            context.Report(RuleIds.PolicyInvalid, Severity.Error, policy, problem.Path, problem.Message);
        }

        if (PolicySet.SplitRef(policy.Spec.RequiredGateway) is { } gw && context.AbsenceIsEvidence(ResourceKind.Service) &&
            context.View.Find(new ObjectKey(ResourceKind.Service, gw.Namespace, gw.Name)) is null)
        {
            context.Report(RuleIds.PolicyInvalid, Severity.Error, policy, "spec.requiredGateway",
                $"requiredGateway {gw.Namespace}/{gw.Name} names no Service (the egress gateway's); fix the name or install the gateway");
        }
    }
}
