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
