using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW308: an EgressPolicy that cannot be enforced: a bad host glob, selector or action, parts that contradict
/// each other (<see cref="PolicyValidator"/>), or a <c>requiredGateway</c> that names no Service, a <c>requiredWaypoint</c> that names no waypoint. Always an error: the
/// webhook refuses to store it, and a policy with a structural problem is not enforced by the CLI either.</summary>
public sealed class Egw308PolicyInvalid : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyInvalid];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.Service, ResourceKind.GatewayApiGateway];

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

        if (policy.Spec.RequiredWaypoint is { Namespace: { Length: > 0 } wns, Name: { Length: > 0 } wname } &&
            context.AbsenceIsEvidence(ResourceKind.GatewayApiGateway))
        {
            // the waypoint is looked up as istiod binds it (Waypoints, EGW501): by name as a Gateway API Gateway of class istio-waypoint
            var waypoint = Waypoints.Find(context.View, new WaypointBinding(wns, wname, WaypointSource.Object));
            if (waypoint is null)
            {
                context.Report(RuleIds.PolicyInvalid, Severity.Error, policy, "spec.requiredWaypoint",
                    $"requiredWaypoint {wns}/{wname} names no Gateway (the waypoint); fix the name or istioctl waypoint apply");
            }
            else if (waypoint.Spec.GatewayClassName != GatewayApiGateway.WaypointClass)
            {
                context.Report(RuleIds.PolicyInvalid, Severity.Error, policy, "spec.requiredWaypoint",
                    $"requiredWaypoint {wns}/{wname} is class {waypoint.Spec.GatewayClassName ?? "(unset)"}, not istio-waypoint; name a waypoint", waypoint.Ref);
            }
        }
    }
}
