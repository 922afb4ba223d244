using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Snapshots;

/// <summary>Direct, consistent reads of the API server, for decisions that the cache may be too late for: the watch
/// delivers a write some tens of milliseconds after the API server acknowledged it (40–80 ms were measured), while
/// <c>kubectl apply</c> sends the next object at once. Registered only by the live-cluster source.</summary>
internal interface IFreshReadSource
{
    /// <summary>A snapshot in which every object of the planned kinds is as the API server holds it now (added,
    /// changed and deleted ones alike); null when the reads found the cache already right for them. A kind planned
    /// <see cref="FreshReadMode.IfCountChanged"/> is first counted (a list of one item) and read in full only when the
    /// count differs from the cache's. Must return within <paramref name="cancellationToken"/>.</summary>
    Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyDictionary<ResourceKind, FreshReadMode> plan, CancellationToken cancellationToken);

    /// <summary>One object as the API server holds it now; null when it does not exist, is not decodable, or the kind
    /// is not watched.</summary>
    Task<EgressObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken);
}

/// <summary>How much a direct read of a kind must do.</summary>
internal enum FreshReadMode
{
    /// <summary>Count the kind's objects (a list of one item) and read them all only when the count differs from the
    /// cache's: enough to see objects created or deleted since the cache was published, not changes to existing ones.</summary>
    IfCountChanged,

    /// <summary>Read every object of the kind.</summary>
    Always,
}

/// <summary>Which decisions rest on the absence or the content of other objects, and which kinds a direct read must
/// fetch to make them on state at least as new as the request: the one list the admission shell (whether and what to
/// read) and the cluster source share.</summary>
internal static class FreshReads
{
    /// <summary>The kinds whose absence or content a finding of <paramref name="rule"/> reports on (whatever its
    /// severity: a warning that rests on a lagging cache is as wrong as a denial). A finding does not name the
    /// object, so the whole kind is read.</summary>
    public static IReadOnlyList<ResourceKind> KindsFor(string rule) => rule switch
    {
        // a destination or VirtualService host no registry object declares, or a port it lacks
        RuleIds.DestinationHostNotRegistered or RuleIds.DestinationPortUnknown or RuleIds.VirtualServiceHostNotRegistered =>
            [ResourceKind.ServiceEntry, ResourceKind.Service],
        RuleIds.GatewayReference => [ResourceKind.Gateway],
        RuleIds.SubsetNotFound => [ResourceKind.DestinationRule],
        // a mesh leg whose gateway leg (a VirtualService) was created a moment ago, or a gateway leg whose mesh leg was
        RuleIds.IncompleteEgressChain => [ResourceKind.VirtualService],
        // a deleted object some VirtualService still uses: that VirtualService may have been deleted a moment ago
        RuleIds.DeleteLeavesDanglingReference => [ResourceKind.VirtualService],
        _ => [],
    };

    /// <summary>The kinds to read before trusting <paramref name="findings"/> about <paramref name="subject"/>, the
    /// object under admission (null for a delete): those the findings rest on, and those a clean answer rests on
    /// without a finding to show it. A VirtualService that routes to a Kubernetes Service is judged as a mesh leg of an
    /// egress chain only if some Gateway selects that Service's pods (EGW113); when the cache holds no such Gateway,
    /// one created a moment ago would let the leg pass silently, so Gateways are read for it. (When the cache holds
    /// one, the leg is judged already; another Gateway on the same pods only adds places a gateway leg may bind to.)</summary>
    /// <remarks>How much to read: a denial is confirmed by reading the whole kind (its cost is paid only when a write
    /// would be refused); so is a finding about an existing object's content (a port, a subset). A warning, and a clean
    /// answer, are confirmed by a count first (cheap, since they are frequent): an object created in the same apply
    /// changes the count; an existing one changed within the watch lag does not, and is then judged as cached.</remarks>
    public static IReadOnlyDictionary<ResourceKind, FreshReadMode> KindsToConfirm(EgressObject? subject, IEnumerable<Finding> findings, EgressSnapshot snapshot)
    {
        var plan = new Dictionary<ResourceKind, FreshReadMode>();
        // a Kubernetes Service registers only a cluster-local name: for a VirtualService whose hosts are all outside
        // the cluster, only ServiceEntries can be what is missing (Services are the largest kind to read)
        var servicesMatter = subject is not VirtualService routed ||
                             EgressSnapshot.HostsOf(routed).Concat(EgressSnapshot.DestinationHostsOf(routed))
                                 .Any(h => HostName.IsClusterLocal(HostName.Resolve(h, routed.Namespace)));
        foreach (var finding in findings)
        {
            var mode = finding.Severity == Severity.Error || finding.Rule is RuleIds.DestinationPortUnknown or RuleIds.SubsetNotFound
                ? FreshReadMode.Always
                : FreshReadMode.IfCountChanged;
            foreach (var kind in KindsFor(finding.Rule).Where(k => k != ResourceKind.Service || servicesMatter))
            {
                plan[kind] = plan.TryGetValue(kind, out var planned) && planned > mode ? planned : mode;
            }
        }

        if (subject is VirtualService vs && !plan.ContainsKey(ResourceKind.Gateway))
        {
            var view = SnapshotView.Of(snapshot);
            if (EgressSnapshot.DestinationHostsOf(vs).Any(host =>
                    view.Services(HostName.Resolve(host, vs.Namespace)).Any(m => !view.AnyGatewaySelectingPodsOf(m.Item))))
            {
                plan[ResourceKind.Gateway] = FreshReadMode.IfCountChanged;
            }
        }

        return plan;
    }
}
