using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Cluster;

/// <summary>Reads the API server directly for decisions the cache may be too late for (<see cref="AdmissionPipeline.KindsToConfirm"/>):
/// <c>kubectl apply</c> sends objects milliseconds apart, and the watch delivers each write some tens of milliseconds
/// after the API server acknowledged it.</summary>
/// <remarks>The reads are consistent lists and gets (no resourceVersion), so they see every write the API server has
/// acknowledged before the request; they are bounded by the caller's token (the admission deadline). Nothing read
/// here goes into the cache: the watch delivers the same objects in order moments later.</remarks>
internal sealed class ClusterFreshReadSource(
    KubernetesApi api,
    ClusterSnapshotSource source,
    IOptions<ClusterOptions> options,
    ClusterMetrics metrics,
    ILogger<ClusterFreshReadSource> logger) : IFreshReadSource
{
    public async Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyDictionary<ResourceKind, FreshReadMode> plan, CancellationToken cancellationToken)
    {
        ResourceInformer[] informers;
        List<EgressObject>[] read;
        try
        {
            var counted = await Task.WhenAll(plan.Select(async p =>
                (Kind: p.Key, Read: p.Value == FreshReadMode.Always || await CountChangedAsync(current, p.Key, cancellationToken))));
            var kinds = counted.Where(c => c.Read).Select(c => c.Kind).ToHashSet();
            informers = source.Informers.Where(i => kinds.Contains(i.Resource.Kind)).ToArray();
            if (informers.Length == 0)
            {
                metrics.FreshReads.WithLabels("none").Inc();
                return null;
            }

            read = await Task.WhenAll(informers.Select(i => ReadAsync(i.Resource, cancellationToken)));
        }
        catch (Exception ex)
        {
            // out of time or the API server failed: the decision stands on the cached view
            metrics.FreshReads.WithLabels(cancellationToken.IsCancellationRequested ? "timeout" : "failed").Inc();
            logger.FreshReadFailed(ex);
            return null;
        }

        // every resource of a kind was read, so the read replaces the kind: what it lacks was deleted. The difference
        // is applied to the current snapshot, which costs what changed, not the size of the cluster
        var readKinds = informers.Select(i => i.Resource.Kind).ToHashSet();
        var changes = new List<SnapshotChange>();
        var freshKeys = new HashSet<ObjectKey>();
        foreach (var obj in read.SelectMany(list => list))
        {
            freshKeys.Add(obj.Key);
            if (current.Find(obj.Key) is not { } c || c.Metadata.ResourceVersion != obj.Metadata.ResourceVersion || obj.Metadata.ResourceVersion is null)
            {
                changes.Add(SnapshotChange.Put(obj));
            }
        }

        foreach (var kind in readKinds)
        {
            foreach (var cached in current.OfKind(kind))
            {
                if (!freshKeys.Contains(cached.Key))
                {
                    changes.Add(SnapshotChange.Delete(cached.Key));
                }
            }
        }

        if (changes.Count == 0)
        {
            metrics.FreshReads.WithLabels("none").Inc();
            return null;
        }

        metrics.FreshReads.WithLabels("found").Inc();
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.FreshReadFound(changes.Count, string.Join(",", readKinds));
        }

        return current.Apply(changes);
    }

    /// <summary>Whether the API server holds another number of objects of <paramref name="kind"/> than the snapshot
    /// (plus those the informers skip as undecodable); true when it cannot tell.</summary>
    private async Task<bool> CountChangedAsync(EgressSnapshot current, ResourceKind kind, CancellationToken cancellationToken)
    {
        var informers = source.Informers.Where(i => i.Resource.Kind == kind).ToArray();
        if (informers.Length == 0)
        {
            return false;
        }

        var counts = await Task.WhenAll(informers.Select(i => api.CountAsync(i.Resource, cancellationToken)));
        if (counts.Any(c => c is null))
        {
            return true;
        }

        var cached = current.OfKind(kind).Count + informers.Sum(i => i.Skipped);
        return counts.Sum(c => c!.Value) != cached;
    }

    public async Task<EgressObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken)
    {
        if (source.Resources.FirstOrDefault(r => r.Kind == kind) is not { } resource)
        {
            return null;
        }

        try
        {
            using var doc = await api.GetAsync(resource, ns, name, cancellationToken);
            var obj = doc is null ? null : TryDecode(doc.RootElement);
            metrics.FreshReads.WithLabels(obj is null ? "none" : "found").Inc();
            return obj?.ResourceKind == kind ? obj : null;
        }
        catch (Exception ex)
        {
            metrics.FreshReads.WithLabels(cancellationToken.IsCancellationRequested ? "timeout" : "failed").Inc();
            logger.FreshReadFailed(ex);
            return null;
        }
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
