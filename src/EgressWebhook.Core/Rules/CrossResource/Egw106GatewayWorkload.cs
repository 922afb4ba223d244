using System.Globalization;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW106: a Gateway must select a gateway workload, and its server ports must be on it.</summary>
/// <remarks>A Gateway configures the proxies its <c>selector</c> picks; with none, its servers exist nowhere. Offline
/// the workload is approximated by the Services whose selector contains every selector label (the gateway's own
/// Service does). A server port P is on the workload when such a Service has port P (Istio binds the server to that
/// port's targetPort) or a targetPort P (Istio IST0162). Without any Service in the snapshot nothing is judged.</remarks>
internal sealed class Egw106GatewayWorkload : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.GatewayWorkload];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.Gateway;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not Gateway gw || !context.View.HasServices || gw.Spec.Selector.Count == 0)
        {
            return;
        }

        var selector = string.Join(",", gw.Spec.Selector.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        var services = context.View.ServicesSelecting(gw.Spec.Selector);
        if (services.Count == 0)
        {
            context.Report(new Awaited(ResourceKind.Service, "the gateway Service"), RuleIds.GatewayWorkload, Severity.Warning, gw, "spec.selector",
                $"selector {selector} matches no gateway Service, so no proxy serves this Gateway; use the pods' labels");
            return;
        }

        // the ports the selected Services expose, once (a Gateway may have 90,000 servers); the port list of the
        // message is made for the first finding, and none past the cap, where a finding is only counted under its list
        var exposed = Exposed(services);
        string? ports = null;
        for (var i = 0; i < gw.Spec.Servers.Count; i++)
        {
            if (gw.Spec.Servers[i].Port is not { Number: > 0 } port || exposed.Contains(port.Number))
            {
                continue;
            }

            if (context.IsCapped(RuleIds.GatewayWorkload, gw))
            {
                context.Report(RuleIds.GatewayWorkload, Severity.Warning, gw, "spec.servers", "");
                continue;
            }

            ports ??= string.Join(", ", services.SelectMany(s => s.Spec.Ports).Select(Describe).Distinct(StringComparer.Ordinal));
            var svc = services[0];
            context.Report(RuleIds.GatewayWorkload, Severity.Warning, gw, $"spec.servers[{i}].port.number",
                $"port {port.Number} is not exposed by Service {svc.Namespace}/{svc.Name} (ports: {ports}); use one of them",
                services.Select(s => s.Ref));
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Service svc ? view.GatewaysSelectingPodsOf(svc) : [];

    /// <summary>Istio IST0162: a server port is on the workload when it is a Service port or a Service port's targetPort
    /// (a targetPort names a number only when written as one: <c>"0443"</c> or a port name is not 443).</summary>
    private static HashSet<int> Exposed(List<Service> services)
    {
        var exposed = new HashSet<int>();
        foreach (var service in services)
        {
            foreach (var p in service.Spec.Ports)
            {
                exposed.Add(p.Port);
                if (int.TryParse(p.TargetPort, NumberStyles.None, CultureInfo.InvariantCulture, out var target) &&
                    target.ToString(CultureInfo.InvariantCulture) == p.TargetPort)
                {
                    exposed.Add(target);
                }
            }
        }

        return exposed;
    }

    private static string Describe(ServicePort p) =>
        string.IsNullOrEmpty(p.TargetPort) ? p.Port.ToString(CultureInfo.InvariantCulture) : $"{p.Port}→{p.TargetPort}";
}
