using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Snapshots;

/// <summary>Confirms a denial that rests on a missing object with one direct read of the API server, for the
/// case where the cache lags an object created a moment ago. Registered only by the live-cluster source.</summary>
internal interface IFreshReadSource
{
    /// <summary>A snapshot that adds the objects the denying findings point at, read directly from the API
    /// server; null when the read found nothing the cache lacked. Must return within <paramref name="cancellationToken"/>.</summary>
    Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyList<Finding> denyingFindings, CancellationToken cancellationToken);
}

/// <summary>Which denials rest on a missing object, and which kinds a direct read must fetch to confirm them: the one
/// list the admission shell (whether to read) and the cluster source (what to read) share.</summary>
internal static class FreshReads
{
    public static IReadOnlyList<ResourceKind> KindsFor(string rule) => rule switch
    {
        // a destination or VirtualService host no registry object declares, or a port it lacks
        RuleIds.DestinationHostNotRegistered or RuleIds.DestinationPortUnknown or RuleIds.VirtualServiceHostNotRegistered =>
            [ResourceKind.ServiceEntry, ResourceKind.Service],
        RuleIds.GatewayReference => [ResourceKind.Gateway],
        RuleIds.SubsetNotFound => [ResourceKind.DestinationRule],
        // a mesh leg whose gateway leg (a VirtualService) was created a moment ago
        RuleIds.IncompleteEgressChain => [ResourceKind.VirtualService],
        _ => [],
    };
}
