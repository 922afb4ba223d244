using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>What the egress-chain rules (EGW105, EGW113) share: recognising a gateway's Service among route
/// destinations, passthrough servers, and how a server is named in a headline.</summary>
internal static class GatewayChain
{
    /// <summary>A destination that is a gateway's Service. Many teams' Gateways may select the same shared egress
    /// gateway: rules find the ones that matter through the host indexes (<see cref="Selects"/> tells whether a
    /// Gateway found that way is on this workload) and list them all only to report a broken link.</summary>
    public sealed record GatewayTarget(Service Service, SnapshotView View)
    {
        /// <summary>Every Gateway that selects the Service's pods (a walk over them: for reports, not for checks).</summary>
        public IReadOnlyList<Gateway> Gateways => field ??= View.GatewaysSelectingPodsOf(Service);

        /// <summary>Whether <paramref name="gateway"/> is one of <see cref="Gateways"/>.</summary>
        public bool Selects(Gateway gateway) => SnapshotView.Selects(gateway, Service);

        /// <summary>The Gateways of this workload with a server for one of <paramref name="hosts"/>, in key order.</summary>
        public IEnumerable<Gateway> Serving(IEnumerable<string> hosts) =>
            hosts.SelectMany(h => View.GatewaysServing(h)).Select(m => m.Item).Where(Selects)
                .DistinctBy(g => g.Key).OrderBy(g => g.Namespace, StringComparer.Ordinal).ThenBy(g => g.Name, StringComparer.Ordinal);

        /// <summary>Those of <paramref name="virtualServices"/> bound to a Gateway of this workload (each once): the legs of
        /// <see cref="LegsFor"/> for every host they match, without a query per host (for AffectedBy).</summary>
        public IEnumerable<VirtualService> LegsAmong(IEnumerable<VirtualService> virtualServices)
        {
            foreach (var vs in virtualServices)
            {
                foreach (var gwRef in EgressSnapshot.BoundGatewayRefs(vs))
                {
                    if (gwRef != GatewayRefs.Mesh && View.Gateway(gwRef) is { } gw && Selects(gw))
                    {
                        yield return vs;
                        break;
                    }
                }
            }
        }

        /// <summary>VirtualServices with a host matching <paramref name="host"/> bound to a Gateway of this workload, with that
        /// Gateway's resolved reference (a pair may come more than once).</summary>
        public IEnumerable<(VirtualService Leg, string GatewayRef)> LegsFor(string host)
        {
            foreach (var m in DistinctItems(View.VirtualServices(host)))
            {
                foreach (var gwRef in EgressSnapshot.BoundGatewayRefs(m.Item))
                {
                    if (gwRef != GatewayRefs.Mesh && View.Gateway(gwRef) is { } gw && Selects(gw))
                    {
                        yield return (m.Item, gwRef);
                    }
                }
            }
        }
    }

    /// <summary>The Kubernetes Services named exactly by <paramref name="host"/> whose pods some Gateway selects. A host
    /// that is no Service of the snapshot, or a Service no Gateway selects, is not a gateway: rules stay silent then.</summary>
    public static List<GatewayTarget> GatewayTargets(SnapshotView view, string host)
    {
        var result = new List<GatewayTarget>();
        if (HostName.IsWildcard(host))
        {
            return result;
        }

        foreach (var match in view.Services(host))
        {
            if (match.Host == host && view.AnyGatewaySelectingPodsOf(match.Item))
            {
                result.Add(new GatewayTarget(match.Item, view));
            }
        }

        return result;
    }

    /// <summary>Whether the server hands TLS through untouched (PASSTHROUGH / AUTO_PASSTHROUGH; an unset mode in a
    /// <c>tls</c> block is PASSTHROUGH). A server without a <c>tls</c> block terminates nothing and passes nothing through.</summary>
    public static bool IsPassthrough(GatewayServer server) =>
        server.Tls is { } tls && ServerTlsModes.IsPassthrough(tls.EffectiveMode);

    /// <summary><c>443/TLS PASSTHROUGH</c>, <c>80/HTTP</c>.</summary>
    public static string Describe(GatewayServer server)
    {
        var port = server.Port is { } p ? $"{p.Number}/{p.Protocol}" : "?";
        return server.Tls is { } tls ? $"{port} {tls.EffectiveMode}" : port;
    }

    /// <summary>The VirtualServices bound to <paramref name="gateway"/> (spec or match level).</summary>
    public static List<VirtualService> BoundTo(SnapshotView view, Gateway gateway) =>
        view.VirtualServicesBoundTo(RefOf(gateway));

    /// <summary><c>ns/name</c> of a Gateway, the resolved form of a reference to it.</summary>
    public static string RefOf(Gateway gateway) => $"{gateway.Namespace}/{gateway.Name}";

    /// <summary>VirtualServices with a host matching one of <paramref name="hosts"/> that route to one of the Services
    /// whose pods <paramref name="gateway"/> selects (the mesh legs towards that gateway for those hosts). Found through
    /// the host index, so the cost follows the hosts, not the number of legs through the gateway.</summary>
    public static IEnumerable<VirtualService> RoutingToWorkloadOf(SnapshotView view, Gateway gateway, IEnumerable<string> hosts)
    {
        var services = view.ServicesSelecting(gateway.Spec.Selector);
        if (services.Count == 0)
        {
            return [];
        }

        return hosts.Distinct(StringComparer.Ordinal)
            .SelectMany(h => view.VirtualServices(h))
            .Select(m => m.Item)
            .DistinctBy(vs => vs.Key)
            .Where(vs => RouteDestinations.Of(vs).Any(d => services.Exists(s => EgressSnapshot.IsHostOf(d.Host, s))));
    }


    /// <summary><see cref="RoutingToWorkloadOf(SnapshotView, Gateway, IEnumerable{string})"/> for the hosts of
    /// <paramref name="vs"/>, matched through <see cref="SnapshotView.MatchingAny"/> (a VirtualService may list 150,000):
    /// the same VirtualServices, in no promised order (for AffectedBy).</summary>
    public static IEnumerable<VirtualService> RoutingToWorkloadOfHostsOf(SnapshotView view, Gateway gateway, VirtualService vs)
    {
        var services = view.ServicesSelecting(gateway.Spec.Selector);
        if (services.Count == 0)
        {
            return [];
        }

        return SharingHostsWith(view, vs)
            .Where(other => RouteDestinations.Of(other).Any(d => services.Exists(s => EgressSnapshot.IsHostOf(d.Host, s))));
    }

    /// <summary>The VirtualServices of <paramref name="view"/> with a host matching one of <paramref name="vs"/>'s (itself
    /// included when the view holds it), through <see cref="SnapshotView.MatchingAny"/>: a set, in no promised order.</summary>
    public static List<VirtualService> SharingHostsWith(SnapshotView view, VirtualService vs) =>
        view.MatchingAny(view.Snapshot.VirtualServiceHosts, vs, HostSetOf, view.VirtualServices);

    private static HashSet<string> HostSetOf(EgressObject vs) => EgressSnapshot.HostsOf((VirtualService)vs).ToHashSet(StringComparer.Ordinal);

    /// <summary><see cref="RoutingToWorkloadOf(SnapshotView, Gateway, IEnumerable{string})"/> for the Gateway's own server
    /// hosts, matched through <see cref="SnapshotView.MatchingAny"/> (a Gateway may list 150,000): the same VirtualServices,
    /// in no promised order.</summary>
    public static IEnumerable<VirtualService> RoutingToWorkloadOfServerHosts(SnapshotView view, Gateway gateway)
    {
        var services = view.ServicesSelecting(gateway.Spec.Selector);
        if (services.Count == 0)
        {
            return [];
        }

        return view.MatchingAny(view.Snapshot.VirtualServiceHosts, gateway, SnapshotView.ServerHostSet, view.VirtualServices)
            .Where(vs => RouteDestinations.Of(vs).Any(d => services.Exists(s => EgressSnapshot.IsHostOf(d.Host, s))));
    }

    /// <summary>VirtualServices with a host matching <paramref name="host"/> that are bound to <paramref name="gatewayRef"/>.</summary>
    public static List<VirtualService> BoundWithHost(SnapshotView view, string gatewayRef, string host)
    {
        var matches = DistinctItems(view.VirtualServices(host));
        var result = new List<VirtualService>(matches.Count);
        foreach (var m in matches)
        {
            if (EgressSnapshot.IsBoundTo(m.Item, gatewayRef))
            {
                result.Add(m.Item);
            }
        }

        return result;
    }

    /// <summary><paramref name="matches"/> (a query's own list) thinned in place to the first match of each object, in
    /// order: an object matches a host once per host of its own that does. Plain loops, and a set only for long lists.</summary>
    public static List<HostMatch<T>> DistinctItems<T>(List<HostMatch<T>> matches)
        where T : EgressObject
    {
        if (matches.Count <= 1)
        {
            return matches;
        }

        HashSet<ObjectKey>? seen = matches.Count > SnapshotView.ScanAtMost ? [] : null;
        var kept = 0;
        for (var i = 0; i < matches.Count; i++)
        {
            var key = matches[i].Item.Key;
            var duplicate = false;
            if (seen is not null)
            {
                duplicate = !seen.Add(key);
            }
            else
            {
                for (var j = 0; j < kept && !duplicate; j++)
                {
                    duplicate = matches[j].Item.Key == key;
                }
            }

            if (!duplicate)
            {
                matches[kept++] = matches[i];
            }
        }

        matches.RemoveRange(kept, matches.Count - kept);
        return matches;
    }
}
