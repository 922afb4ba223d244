using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW301: a ServiceEntry, VirtualService or DestinationRule opens an external host, port or protocol that an
/// EgressPolicy selecting its namespace does not allow (<c>spec.allow</c>).</summary>
/// <remarks>Every selecting policy must allow it (intersection); each one that does not reports its own finding, with
/// its own action. A host is allowed when some allow entry's glob covers it (<c>*.example.com</c> covers
/// <c>api.example.com</c> and <c>*.api.example.com</c>, not <c>example.com</c>: Istio's wildcard semantics) and the
/// entry lists the port and protocol, or lists none.</remarks>
internal sealed class Egw301HostNotAllowed : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyHostNotAllowed];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.ServiceEntry or ResourceKind.VirtualService or ResourceKind.DestinationRule;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        var policies = context.Policies.Selecting(subject.Namespace);
        if (policies.Count == 0)
        {
            return;
        }

        foreach (var policy in policies)
        {
            // one finding per policy and field: a ServiceEntry with many ports reports the first one refused
            string? reported = null;
            foreach (var opened in OpenedHosts.Of(subject))
            {
                context.View.Budget.ThrowIfCancellationRequested();
                if (opened.Path == reported || PolicySet.Allows(policy, opened.Host, opened.Port, opened.Protocol))
                {
                    continue;
                }

                reported = opened.Path;
                var what = opened.Protocol is { } protocol ? $"{opened.HostPort}/{protocol.ToUpperInvariant()}" : opened.HostPort;
                context.ReportPolicy(policy, null, RuleIds.PolicyHostNotAllowed, subject, opened.Path,
                    $"{what} not allowed (allows {PolicySet.DescribeAllowed(policy)}); remove it or extend EgressPolicy {policy.Name}");
            }
        }
    }
}
