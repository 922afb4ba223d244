using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW305: a Sidecar sets <c>outboundTrafficPolicy.mode: ALLOW_ANY</c> (or <c>ALLOW_ANY_DYNAMIC_DNS</c>) while
/// the mesh is <c>REGISTRY_ONLY</c>, in a namespace whose EgressPolicy guards Sidecars (<c>spec.sidecar</c>,
/// <c>forbidAllowAny</c> unless set to false).</summary>
/// <remarks>A Sidecar's outbound mode overrides the mesh's for the workloads it scopes: one object re-opens
/// PassthroughCluster for a whole namespace and every unregistered host becomes reachable, unmonitored.</remarks>
internal sealed class Egw305SidecarReopensAllowAny : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicySidecarAllowAny];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.Sidecar;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        if (subject is not Sidecar sidecar || sidecar.Spec.OutboundTrafficPolicy?.Mode is not { } mode ||
            !mode.StartsWith(OutboundPolicies.AllowAny, StringComparison.OrdinalIgnoreCase) ||
            context.MeshOutboundPolicy != OutboundPolicies.RegistryOnly)
        {
            return;
        }

        foreach (var policy in context.Policies.Selecting(sidecar.Namespace))
        {
            if (policy.Spec.Sidecar is { ForbidAllowAny: not false })
            {
                context.ReportPolicy(policy, null, RuleIds.PolicySidecarAllowAny, sidecar, "spec.outboundTrafficPolicy.mode",
                    $"{mode} re-opens passthrough under REGISTRY_ONLY; remove it, register the hosts (EgressPolicy {policy.Name})");
            }
        }
    }
}
