using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>EGW405: routing that exists already for the entry's hosts, which the plan must not duplicate or take over.</summary>
internal static class RoutingConflicts
{
    /// <summary>Mesh VirtualServices routing one of the hosts, and Gateways on the gateway's workload that serve one of
    /// them on a planned gateway port, not generated for <paramref name="entry"/>.</summary>
    public static List<Finding> ExistingRoutes(ServiceEntry entry, Service service, List<RoutingPorts.PlannedPort> ports, SnapshotView view)
    {
        var result = new List<Finding>();
        var seen = new HashSet<ObjectKey>();
        for (var i = 0; i < entry.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(entry.Spec.Hosts[i], entry.Namespace);
            foreach (var match in view.VirtualServices(host))
            {
                var vs = match.Item;
                if (EgressSnapshot.IsBoundTo(vs, GatewayRefs.Mesh) && !RoutingPlanner.IsGeneratedFor(vs, entry) && seen.Add(vs.Key))
                {
                    result.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedConflictingRoute, entry, $"spec.hosts[{i}]",
                        $"mesh VirtualService {vs.Namespace}/{vs.Name} routes {entry.Spec.Hosts[i]} already; add the legs there or delete it", vs.Ref));
                }
            }
        }

        var gatewayPorts = ports.Select(p => p.GatewayPort).ToHashSet();
        // Gateways with a server for one of the hosts, through the server-host index (a shared egress gateway may carry
        // every team's Gateway), then those on this gateway's workload
        var serving = entry.Spec.Hosts.SelectMany(h => view.GatewaysServing(h)).Select(m => m.Item)
            .OrderBy(g => g.Namespace, StringComparer.Ordinal).ThenBy(g => g.Name, StringComparer.Ordinal);
        foreach (var gw in serving)
        {
            if (RoutingPlanner.IsGeneratedFor(gw, entry) || !SnapshotView.Selects(gw, service) || !seen.Add(gw.Key))
            {
                continue;
            }

            foreach (var server in gw.Spec.Servers)
            {
                if (server.Port is not { } p || !gatewayPorts.Contains(p.Number))
                {
                    continue;
                }

                var host = entry.Spec.Hosts.FirstOrDefault(h => server.Hosts.Any(sh => HostName.Matches(NamespacedHost.DnsName(sh), h)));
                if (host is not null)
                {
                    result.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedConflictingRoute, entry, "spec.hosts",
                        $"Gateway {gw.Namespace}/{gw.Name} serves {host} on gateway port {p.Number} already; remove that server or opt out", gw.Ref));
                    break;
                }
            }
        }

        return result;
    }

    /// <summary>A planned name already taken by an object not generated for this entry (a user's own DestinationRule or
    /// VirtualService): applying the plan would take that object over, and removing the plan later would delete it.</summary>
    public static Finding? TakenName(ServiceEntry entry, List<EgressObject> objects, SnapshotView view)
    {
        if (objects.Select(o => view.Find(o.Key)).FirstOrDefault(stored => stored is not null && !RoutingPlanner.IsGeneratedFor(stored, entry)) is { } taken)
        {
            return RoutingNotice.Warning(RuleIds.RoutingSkippedConflictingRoute, entry, "metadata.name",
                $"{taken.KindName} {taken.Namespace}/{taken.Name} exists and was not generated for this entry; rename or delete it", taken.Ref);
        }

        return null;
    }
}
