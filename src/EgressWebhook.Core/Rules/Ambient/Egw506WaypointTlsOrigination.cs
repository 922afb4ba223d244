using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW506: TLS origination at the waypoint is half configured: a waypoint-bound ServiceEntry's plain HTTP port
/// sends to <c>targetPort: 443</c>, but no DestinationRule for the entry's host, found from the waypoint, originates TLS
/// (<c>tls.mode: SIMPLE</c> or <c>MUTUAL</c>) on that port.</summary>
/// <remarks>Istio's ambient egress task ("Originate TLS at the egress gateway"): the application sends HTTP to port 80,
/// the entry maps it to <c>targetPort: 443</c>, and a DestinationRule whose <c>host</c> is the entry's host (not its
/// name) with <c>tls.mode: SIMPLE</c> makes the waypoint open TLS to 443. Without it the waypoint sends plain HTTP to a
/// TLS port and every request fails. The DestinationRule is looked up from the waypoint's namespace (the client of the
/// upstream connection). Error; an incompleteness when no DestinationRule is found (a later write may add it).</remarks>
internal sealed class Egw506WaypointTlsOrigination : IEgressRule
{
    private const int TlsPort = 443;

    public IReadOnlyList<string> Ids { get; } = [RuleIds.WaypointTlsOrigination];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.DestinationRule];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || Waypoints.BindingOf(se, context.View) is not { } binding || Waypoints.Find(context.View, binding) is null)
        {
            return;
        }

        for (var i = 0; i < se.Spec.Ports.Count; i++)
        {
            var port = se.Spec.Ports[i];
            if (port.TargetPort != TlsPort || port.Number == TlsPort || !Protocols.IsHttp(port.Protocol) || Protocols.IsTls(port.Protocol))
            {
                continue;
            }

            foreach (var written in se.Spec.Hosts)
            {
                var host = HostName.Resolve(written, se.Namespace);
                var rules = context.DestinationRulesOnLookupPath(host, binding.Namespace);
                var modes = rules.SelectMany(dr => DestinationRuleTls.Blocks(dr.Spec).Where(b => b.Subset is null && (b.Port is null || b.Port == port.Number))
                    .OrderBy(b => b.Port is null ? 1 : 0).Take(1).Select(b => (dr, b.Tls.EffectiveMode))).ToList();
                if (modes.Any(m => ClientTlsModes.Originates(m.EffectiveMode)))
                {
                    continue;
                }

                var message = $"port {port.Number} sends plain HTTP to targetPort 443: no DestinationRule for {host} has tls SIMPLE; add one";
                if (rules.Count == 0)
                {
                    context.Report(new Awaited(ResourceKind.DestinationRule, $"a DestinationRule for {host} with tls.mode SIMPLE"), RuleIds.WaypointTlsOrigination,
                        Severity.Error, se, $"spec.ports[{i}].targetPort", message);
                }
                else
                {
                    context.Report(RuleIds.WaypointTlsOrigination, Severity.Error, se, $"spec.ports[{i}].targetPort", message, rules.Select(r => r.Ref));
                }
            }
        }
    }
}
