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
    public Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyDictionary<ResourceKind, FreshReadMode> plan, CancellationToken cancellationToken) =>
        ConfirmAsync(current, new FreshReadPlan(plan, []), cancellationToken);

    /// <summary>Reads what <paramref name="plan"/> asks, all at once: each object by name (a 404 deletes it from the
    /// snapshot, an object at another resourceVersion replaces it), each kind counted or listed (in
    /// <see cref="FreshReadPlan.Namespace"/> only, when given, for a kind read in full); the differences are applied to
    /// <paramref name="current"/> as single-object changes, so the cost follows what was read, not the cluster.</summary>
    public async Task<EgressSnapshot?> ConfirmAsync(EgressSnapshot current, FreshReadPlan plan, CancellationToken cancellationToken)
    {
        var changes = new List<SnapshotChange>();
        var what = new List<string>();
        try
        {
            var gets = Task.WhenAll(plan.Objects.Select(key => GetChangeAsync(current, key, cancellationToken)));
            var counted = await Task.WhenAll(plan.Kinds.Select(async p =>
                (Kind: p.Key, Mode: p.Value, Read: p.Value == FreshReadMode.Always || await CountChangedAsync(current, p.Key, cancellationToken))));
            var reads = counted.Where(c => c.Read)
                .SelectMany(c => source.Informers.Where(i => i.Resource.Kind == c.Kind)
                    .Select(i => InNamespace(i.Resource, c.Mode == FreshReadMode.Always ? plan.Namespace : null)))
                .ToArray();
            var lists = await Task.WhenAll(reads.Select(async r => (Resource: r, Objects: await ReadAsync(r, cancellationToken))));
            foreach (var change in await gets)
            {
                if (change is { } c)
                {
                    changes.Add(c);
                }
            }

            if (plan.Objects.Count > 0)
            {
                what.Add($"{plan.Objects.Count} by name");
            }

            foreach (var (resource, objects) in lists)
            {
                Difference(current, resource, objects, changes);
                what.Add(resource.Namespace is { } ns && !source.Resources.Contains(resource) ? $"{resource.Kind} in {ns}" : resource.Kind.ToString());
            }
        }
        catch (Exception ex)
        {
            // out of time or the API server failed: the decision stands on the cached view
            metrics.FreshReads.WithLabels(cancellationToken.IsCancellationRequested ? "timeout" : "failed").Inc();
            logger.FreshReadFailed(ex);
            return null;
        }

        if (changes.Count == 0)
        {
            metrics.FreshReads.WithLabels("none").Inc();
            return null;
        }

        metrics.FreshReads.WithLabels("found").Inc();
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.FreshReadFound(changes.Count, string.Join(",", what));
        }

        return current.Apply(changes);
    }

    /// <summary>The collection of <paramref name="resource"/> in <paramref name="ns"/> only, for a namespaced kind
    /// watched in all namespaces; else the resource itself.</summary>
    private static ClusterResource InNamespace(ClusterResource resource, string? ns) =>
        ns is { Length: > 0 } && resource.Namespaced && resource.Namespace is null ? resource with { Namespace = ns } : resource;

    /// <summary>The changes that make <paramref name="current"/>'s objects of the listed collection what the API server
    /// returned: every resource of the kind (in the namespace) was read, so what the read lacks was deleted.</summary>
    private static void Difference(EgressSnapshot current, ClusterResource listed, List<EgressObject> read, List<SnapshotChange> changes)
    {
        var fresh = new HashSet<ObjectKey>();
        foreach (var obj in read)
        {
            fresh.Add(obj.Key);
            if (current.Find(obj.Key) is not { } c || c.Metadata.ResourceVersion != obj.Metadata.ResourceVersion || obj.Metadata.ResourceVersion is null)
            {
                changes.Add(SnapshotChange.Put(obj));
            }
        }

        foreach (var cached in current.OfKind(listed.Kind))
        {
            if ((listed.Namespace is null || cached.Namespace == listed.Namespace) && !fresh.Contains(cached.Key))
            {
                changes.Add(SnapshotChange.Delete(cached.Key));
            }
        }
    }

    /// <summary>The change one get by name makes to <paramref name="current"/>: the object put when the API server
    /// holds it at another resourceVersion (or the cache lacks it), deleted on a 404 when the cache holds it; null when
    /// the cache is right, the kind is not watched, or the object is not decodable.</summary>
    private async Task<SnapshotChange?> GetChangeAsync(EgressSnapshot current, ObjectKey key, CancellationToken cancellationToken)
    {
        if (source.Resources.FirstOrDefault(r => r.Kind == key.Kind) is not { } resource)
        {
            return null;
        }

        using var doc = await api.GetAsync(resource, key.Namespace, key.Name, cancellationToken);
        var cached = current.Find(key);
        if (doc is null)
        {
            return cached is null ? null : SnapshotChange.Delete(key);
        }

        if (TryDecode(doc.RootElement) is not { } obj || obj.Key != key)
        {
            return null;
        }

        return cached is not null && cached.Metadata.ResourceVersion == obj.Metadata.ResourceVersion && obj.Metadata.ResourceVersion is not null
            ? null
            : SnapshotChange.Put(obj);
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
