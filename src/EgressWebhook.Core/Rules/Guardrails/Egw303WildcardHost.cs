using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>EGW303: a wildcard external host (<c>*.example.com</c>, <c>*</c>) in a namespace whose EgressPolicy forbids
/// wildcards (<c>spec.wildcards.forbid</c>) and does not list it (<c>spec.wildcards.allowed</c>; a narrower wildcard
/// within a listed one passes).</summary>
/// <remarks>A wildcard ServiceEntry opens every name under it; with <c>resolution: NONE</c> (the only one Istio allows for
/// it without endpoints) the sidecar forwards to whatever address the application resolved, so the platform cannot
/// tell from the object which servers are reached.</remarks>
internal sealed class Egw303WildcardHost : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PolicyWildcardHost];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.ServiceEntry or ResourceKind.VirtualService or ResourceKind.DestinationRule;

    public void Check(EgressObject subject, RuleContext context)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(context);
        foreach (var policy in context.Policies.Selecting(subject.Namespace))
        {
            if (policy.Spec.Wildcards is not { Forbid: true } wildcards)
            {
                continue;
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var opened in OpenedHosts.Of(subject))
            {
                if (!HostName.IsWildcard(opened.Host) || !seen.Add(opened.Path) || wildcards.Allowed.Any(w => PolicySet.Covers(w, opened.Host)))
                {
                    continue;
                }

                var listed = wildcards.Allowed.Count == 0 ? "none" : string.Join(",", wildcards.Allowed.Take(2)) + (wildcards.Allowed.Count > 2 ? ",…" : "");
                context.ReportPolicy(policy, null, RuleIds.PolicyWildcardHost, subject, opened.Path,
                    $"wildcard {opened.Host} forbidden (allowed: {listed}); list exact hosts (EgressPolicy {policy.Name})");
            }
        }
    }
}
