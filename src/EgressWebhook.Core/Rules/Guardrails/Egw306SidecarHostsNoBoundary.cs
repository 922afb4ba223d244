using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW306: a Sidecar restricts <c>egress[].hosts</c> while its workloads' outbound mode is <c>ALLOW_ANY</c>, in a
/// namespace whose EgressPolicy guards Sidecars (<c>spec.sidecar</c>, <c>reportEgressHostsUnderAllowAny</c> unless
/// false): reported as no security boundary. At most a warning, whatever the policy's action.</summary>
/// <remarks>Under ALLOW_ANY a host outside <c>egress.hosts</c> is not blocked: it is unknown to the sidecar and goes to
/// PassthroughCluster, so the list limits configuration size, not reachability (istio/istio#41243). Only
/// <c>REGISTRY_ONLY</c> makes it a boundary.</remarks>
internal sealed class Egw306SidecarHostsNoBoundary : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicySidecarHostsNoBoundary];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.Sidecar;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        if (subject is not Sidecar sidecar || !sidecar.Spec.Egress.Any(l => l.Hosts.Any(h => h != "*/*")))
        {
            return;
        }

        var mode = sidecar.Spec.OutboundTrafficPolicy?.Mode is { Length: > 0 } own ? own : context.MeshOutboundPolicy;
        if (!mode.StartsWith(OutboundPolicies.AllowAny, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        foreach (var policy in context.Policies.Selecting(sidecar.Namespace))
        {
            if (policy.Spec.Sidecar is { ReportEgressHostsUnderAllowAny: not false })
            {
                context.ReportPolicy(policy, null, RuleIds.PolicySidecarHostsNoBoundary, sidecar, "spec.egress",
                    $"egress.hosts is no boundary under {mode} (istio#41243); use REGISTRY_ONLY (EgressPolicy {policy.Name})",
                    cap: Severity.Warning);
            }
        }
    }
}
