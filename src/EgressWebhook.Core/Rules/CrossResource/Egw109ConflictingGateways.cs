using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW109: two Gateways on the same workload declare the same server (port, host, bind).</summary>
/// <remarks>Servers of every Gateway that selects a proxy are merged into its listeners. Two servers with the same port,
/// the same host string and the same <c>bind</c> address collide: the proxy keeps one and the other Gateway's
/// VirtualServices are not served as intended (Istio IST0145). Gateways select the same workload when their selectors
/// are equal or one contains the other (every pod of the narrower selector is picked by both). Servers without a port
/// number are not compared. An object this project generates must never collide, so for it the finding is an error.</remarks>
internal sealed class Egw109ConflictingGateways : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.ConflictingGateways];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.Gateway;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not Gateway gw)
        {
            return;
        }

        var neighbours = context.View.GatewaysOnSameWorkloadServingItsHosts(gw).OrderBy(g => g.Ref).ToList();
        if (neighbours.Count == 0)
        {
            return;
        }

        var severity = RuleContext.IsGenerated(gw) ? Severity.Error : Severity.Warning;

        // the first neighbour (in order) serving each (port, bind, host), built once: both sides may list thousands of hosts
        var servedBy = new Dictionary<(int Port, string Bind, string Host), Gateway>();
        foreach (var n in neighbours)
        {
            foreach (var s in n.Spec.Servers)
            {
                foreach (var h in s.Hosts)
                {
                    servedBy.TryAdd((s.Port?.Number ?? 0, s.Bind ?? "", h), n);
                }
            }
        }

        for (var i = 0; i < gw.Spec.Servers.Count; i++)
        {
            var server = gw.Spec.Servers[i];
            if (server.Port is not { Number: > 0 } port)
            {
                continue;
            }

            for (var j = 0; j < server.Hosts.Count; j++)
            {
                var host = server.Hosts[j];
                if (!servedBy.TryGetValue((port.Number, server.Bind ?? "", host), out var clash))
                {
                    continue;
                }

                context.Report(RuleIds.ConflictingGateways, severity, gw, $"spec.servers[{i}].hosts[{j}]",
                    $"{port.Number}/{host} is also served by Gateway {clash.Namespace}/{clash.Name} on the same workload; merge them",
                    clash.Ref);
            }
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Gateway gw ? view.GatewaysOnSameWorkloadServingItsHosts(gw) : [];
}
