using System.Text.Json;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Cluster;

/// <summary>Confirms denials that rest on a missing object with one direct read of the API server: the cache may
/// lag an object that <c>kubectl apply -f dir/</c> created milliseconds before the one being admitted.</summary>
/// <remarks>Only findings about a missing reference trigger it: a host no ServiceEntry/Service registers (EGW101,
/// EGW102 for a port an updated ServiceEntry may have just gained, EGW103), a Gateway name (EGW104), a subset
/// (EGW107). The read is a consistent list (no resourceVersion), so it sees every write the API server has
/// acknowledged; it is bounded by the caller's token (the admission deadline). Nothing read here goes into the
/// cache: the watch delivers the same objects in order moments later.</remarks>
internal sealed class ClusterFreshReadSource(
    KubernetesApi api,
    ClusterSnapshotSource source,
    IOptions<ClusterOptions> options,
    ClusterMetrics metrics,
    ILogger<ClusterFreshReadSource> logger) : IFreshReadSource
{
    /// <summary>The kinds whose absence each rule reports (the finding does not name the missing object, so the
    /// whole kind is read; a kind is read once however many findings point at it).</summary>

    public async Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyList<Finding> denyingFindings, CancellationToken cancellationToken)
    {
        var kinds = denyingFindings.SelectMany(f => FreshReads.KindsFor(f.Rule)).ToHashSet();
        var resources = source.Resources.Where(r => kinds.Contains(r.Kind)).ToArray();
        if (resources.Length == 0)
        {
            return null;
        }

        List<EgressObject>[] read;
        try
        {
            read = await Task.WhenAll(resources.Select(r => ReadAsync(r, cancellationToken)));
        }
        catch (Exception ex)
        {
            // out of time or the API server failed: the denial stands on the cached view
            metrics.FreshReads.WithLabels(cancellationToken.IsCancellationRequested ? "timeout" : "failed").Inc();
            logger.FreshReadFailed(ex);
            return null;
        }

        var fresh = read.SelectMany(list => list)
            .Where(obj => current.Find(obj.Key) is not { } cached || cached.Metadata.ResourceVersion != obj.Metadata.ResourceVersion)
            .ToList();
        if (fresh.Count == 0)
        {
            metrics.FreshReads.WithLabels("none").Inc();
            return null;
        }

        metrics.FreshReads.WithLabels("found").Inc();
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.FreshReadFound(fresh.Count, string.Join(",", fresh.Select(o => o.KindName).Distinct()));
        }
        return EgressSnapshot.Create(current.Objects.Concat(fresh));
    }

    private async Task<List<EgressObject>> ReadAsync(ClusterResource resource, CancellationToken cancellationToken)
    {
        var objects = new List<EgressObject>();
        await api.ListAsync(resource, options.Value.ListPageSize, item =>
        {
            if (TryDecode(item) is { } obj && obj.ResourceKind == resource.Kind)
            {
                objects.Add(obj);
            }
        }, cancellationToken);
        return objects;
    }

    private static EgressObject? TryDecode(JsonElement item)
    {
        try
        {
            return ObjectDecoder.Decode(item, "default");
        }
        catch (DecodeException)
        {
            return null;
        }
    }
}
