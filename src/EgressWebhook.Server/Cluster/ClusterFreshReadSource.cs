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
    /// snapshot, an object at another resourceVersion replaces it), each kind counted or listed, in
    /// <see cref="FreshReadPlan.Namespace"/> only when one is given (a counted kind is listed only when its count there
    /// differs from the cache's); the differences are applied to <paramref name="current"/> as single-object changes,
    /// and only the listed objects the cache lacks or holds at another resourceVersion are decoded, so the cost follows
    /// what was read and what changed, not the cluster.</summary>
    public async Task<EgressSnapshot?> ConfirmAsync(EgressSnapshot current, FreshReadPlan plan, CancellationToken cancellationToken)
    {
        var changes = new List<SnapshotChange>();
        var what = new List<string>();
        try
        {
            var gets = Task.WhenAll(plan.Objects.Select(key => GetChangeAsync(current, key, cancellationToken)));
            var scoped = plan.Kinds.Select(p => (Kind: p.Key, p.Value, Resources: Scope(p.Key, plan.Namespace))).ToArray();
            var counted = await Task.WhenAll(scoped.Select(async p =>
                (p.Resources, Read: p.Value == FreshReadMode.Always || await CountChangedAsync(current, p.Kind, p.Resources, cancellationToken))));
            var reads = counted.Where(c => c.Read).SelectMany(c => c.Resources).ToArray();
            var lists = await Task.WhenAll(reads.Select(async r => (Resource: r, Seen: await ReadAsync(current, r, changes, cancellationToken))));
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

            // the resources of one kind (the four Gateway API route kinds) are read together: what none of them
            // listed, in the scopes read, was deleted
            foreach (var kind in lists.GroupBy(l => l.Resource.Kind))
            {
                var seen = kind.SelectMany(l => l.Seen).ToHashSet();
                var scopes = kind.Select(l => l.Resource).ToArray();
                Deleted(current, kind.Key, scopes, seen, changes);
                what.AddRange(scopes.Select(r => r.Namespace is { } ns && !source.Resources.Contains(r) ? $"{r.Kind} in {ns}" : r.Kind.ToString()).Distinct());
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

    /// <summary>The collections to read for <paramref name="kind"/>: each watched resource of the kind, narrowed to
    /// <paramref name="ns"/> when given (<see cref="InNamespace"/>).</summary>
    private ClusterResource[] Scope(ResourceKind kind, string? ns) =>
        [.. source.Informers.Where(i => i.Resource.Kind == kind).Select(i => InNamespace(i.Resource, ns)).Distinct()];

    /// <summary>The collection of <paramref name="resource"/> in <paramref name="ns"/> only, for a namespaced kind
    /// watched in all namespaces; else the resource itself.</summary>
    private static ClusterResource InNamespace(ClusterResource resource, string? ns) =>
        ns is { Length: > 0 } && resource.Namespaced && resource.Namespace is null ? resource with { Namespace = ns } : resource;

    /// <summary>The deletions that make <paramref name="current"/>'s objects of <paramref name="kind"/> in the listed
    /// collections what the API server returned: every object of the kind in them was read, so what the reads lack was
    /// deleted.</summary>
    private static void Deleted(EgressSnapshot current, ResourceKind kind, ClusterResource[] listed, HashSet<ObjectKey> seen, List<SnapshotChange> changes)
    {
        var inScope = listed.Any(r => r.Namespace is null)
            ? current.OfKind(kind)
            : listed.Select(r => r.Namespace!).Distinct(StringComparer.Ordinal).SelectMany(ns => current.OfKind(kind, ns));
        foreach (var cached in inScope)
        {
            if (!seen.Contains(cached.Key))
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

    /// <summary>Whether the API server holds another number of objects of <paramref name="kind"/> in
    /// <paramref name="read"/> than the snapshot (plus those the informers skip as undecodable, for a collection read
    /// as watched); true when it cannot tell. The informers count what they skip per collection, not per namespace: a
    /// namespace holding an undecodable object always differs, and is listed (a read of one namespace).</summary>
    private async Task<bool> CountChangedAsync(EgressSnapshot current, ResourceKind kind, ClusterResource[] read, CancellationToken cancellationToken)
    {
        if (read.Length == 0)
        {
            return false;
        }

        var counts = await Task.WhenAll(read.Select(r => api.CountAsync(r, cancellationToken)));
        if (counts.Any(c => c is null))
        {
            return true;
        }

        var watched = source.Informers.Where(i => i.Resource.Kind == kind).ToArray();
        var cached = read.All(r => watched.Any(i => i.Resource == r))
            ? current.OfKind(kind).Count + watched.Sum(i => i.Skipped)
            : read.Select(r => r.Namespace!).Distinct(StringComparer.Ordinal).Sum(ns => current.OfKind(kind, ns).Count());
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

    /// <summary>Lists <paramref name="resource"/> and adds to <paramref name="changes"/> the objects the cache lacks or
    /// holds at another resourceVersion; returns the keys of every object listed. An item whose namespace, name and
    /// resourceVersion match the cached object is not decoded: it is the object the cache holds.</summary>
    private async Task<HashSet<ObjectKey>> ReadAsync(EgressSnapshot current, ClusterResource resource, List<SnapshotChange> changes, CancellationToken cancellationToken)
    {
        var seen = new HashSet<ObjectKey>();
        var found = new List<SnapshotChange>();
        await api.ListAsync(resource, options.Value.ListPageSize, item =>
        {
            if (Unchanged(current, resource, item) is { } key)
            {
                seen.Add(key);
                return;
            }

            if (TryDecode(item) is not { } obj || obj.ResourceKind != resource.Kind)
            {
                return;
            }

            seen.Add(obj.Key);
            if (current.Find(obj.Key) is not { } c || c.Metadata.ResourceVersion != obj.Metadata.ResourceVersion || obj.Metadata.ResourceVersion is null)
            {
                found.Add(SnapshotChange.Put(obj));
            }
        }, cancellationToken);
        lock (changes)
        {
            changes.AddRange(found);
        }

        return seen;
    }

    /// <summary>The key of the cached object <paramref name="item"/> is, when the cache holds it at the item's
    /// resourceVersion (a resourceVersion names one write of one object); else null (to be decoded).</summary>
    private static ObjectKey? Unchanged(EgressSnapshot current, ClusterResource resource, JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("metadata", out var meta) || meta.ValueKind != JsonValueKind.Object ||
            Text(meta, "name") is not { } name || Text(meta, "resourceVersion") is not { } version)
        {
            return null;
        }

        var ns = resource.Namespaced ? Text(meta, "namespace") : "";
        if (ns is null)
        {
            return null;
        }

        var key = new ObjectKey(resource.Kind, ns, name);
        return current.Find(key) is { } cached && cached.Metadata.ResourceVersion == version ? key : null;
    }

    private static string? Text(JsonElement obj, string property) =>
        obj.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

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
