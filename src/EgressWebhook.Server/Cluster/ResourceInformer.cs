using System.Text.Json;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Cluster;

/// <summary>A list-and-watch cache of one resource, as client-go's reflector: list, then watch from the list's
/// resourceVersion with bookmarks and a jittered server-side timeout; when the server ends the watch, watch again from
/// the last resourceVersion seen; on 410 Gone re-list; on a dropped watch, or one still open past its client-side
/// deadline (a dead connection), resume from the last resourceVersion (after a jittered backoff for failures);
/// re-list every <see cref="ClusterOptions.Resync"/> as a safety net.</summary>
/// <remarks>Health is whether the list or watch is established, never whether anything arrived: the API server
/// sends a bookmark only when etcd reports progress (every 10 minutes at etcd's default), so a kind with no changes
/// normally hears nothing. The kind is stale when no list or watch could be (re)established for
/// <see cref="ClusterOptions.StaleAfter"/>.</remarks>
/// <remarks>A list or watch answered 404 (the resource is no longer served, as after its CRD was deleted) is retried
/// like any failure and also reported through <c>notServed</c>, so the owner can re-discover the optional kinds at once
/// instead of waiting for its next period.</remarks>
/// <remarks>Objects are keyed by namespace/name and kept as decoded <see cref="EgressObject"/>s (Core's one decode
/// path); an object that does not decode (not a mesh ConfigMap, or a field of the wrong type) is left out, so an
/// update that makes it undecodable removes the stale version. <see cref="Objects"/> copies under a lock held only
/// for one event, so readers never wait on the network. Every change to the cached objects is also recorded
/// (<see cref="TakeChanges"/>), so the published snapshot follows the cache without being rebuilt.</remarks>
internal sealed class ResourceInformer(
    ClusterResource resource,
    KubernetesApi api,
    ClusterOptions options,
    TimeProvider time,
    ClusterMetrics metrics,
    ILogger logger,
    Action<DateTimeOffset> changed,
    Random? random = null,
    Action? notServed = null)
{
    private readonly Lock _lock = new();
    private readonly Random _random = random ?? Random.Shared;
    private Dictionary<string, EgressObject> _objects = new(StringComparer.Ordinal);
    private HashSet<string> _skipped = new(StringComparer.Ordinal); // keys the server holds that do not decode
    private List<SnapshotChange> _changes = []; // what changed in _objects since the last Take, in order
    private long _downSinceTicks = time.GetUtcNow().UtcTicks; // 0 = a list or watch is established; read by admission threads
    private volatile bool _hasSynced;
    private volatile string? _resourceVersion;
    private bool _receivedAny;
    private long _restarts;
    private long _lists;

    public ClusterResource Resource { get; } = resource;

    /// <summary>Whether the first list has completed.</summary>
    public bool HasSynced => _hasSynced;

    /// <summary>Whether a list or watch is established right now (a watch the server accepted and has not ended).</summary>
    public bool IsEstablished => Interlocked.Read(ref _downSinceTicks) == 0;

    /// <summary>The last resourceVersion seen (list, event or bookmark): where a resumed watch starts.</summary>
    public string? ResourceVersion => _resourceVersion;

    /// <summary>Watches re-established for any reason (tests assert on it; the metric has the reasons).</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Full lists done, the initial one included.</summary>
    public long Lists => Interlocked.Read(ref _lists);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _objects.Count;
            }
        }
    }

    /// <summary>Objects the server holds that are not cached because they do not decode (other ConfigMaps, wrong
    /// field types): with <see cref="Count"/>, what a count of the server's collection should come to.</summary>
    public int Skipped
    {
        get
        {
            lock (_lock)
            {
                return _skipped.Count;
            }
        }
    }

    /// <summary>A copy of the cached objects.</summary>
    public EgressObject[] Objects()
    {
        lock (_lock)
        {
            return [.. _objects.Values];
        }
    }

    /// <summary>The cached objects, and the recorded changes cleared in the same step: a snapshot built from them and
    /// then given every later <see cref="TakeChanges"/> follows the cache exactly.</summary>
    public EgressObject[] TakeObjects()
    {
        lock (_lock)
        {
            _changes = [];
            return [.. _objects.Values];
        }
    }

    /// <summary>The changes (added or modified objects, deleted keys) since the last take, in the order they happened.</summary>
    public List<SnapshotChange> TakeChanges()
    {
        lock (_lock)
        {
            var taken = _changes;
            _changes = [];
            return taken;
        }
    }

    /// <summary>Whether no list or watch has been established for longer than <paramref name="threshold"/>.</summary>
    public bool IsStale(DateTimeOffset now, TimeSpan threshold) =>
        Interlocked.Read(ref _downSinceTicks) is var ticks && ticks != 0 && now - new DateTimeOffset(ticks, TimeSpan.Zero) > threshold;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(options.MinBackoff, options.MaxBackoff, _random);
        var listReason = "initial";
        var nextResync = DateTimeOffset.MaxValue;
        long downBefore = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (listReason is not null)
                {
                    await ListAsync(listReason, cancellationToken);
                    listReason = null;
                    backoff.Reset();
                    nextResync = options.ResyncMinutes > 0 ? time.GetUtcNow() + options.Resync : DateTimeOffset.MaxValue;
                }

                var timeoutSeconds = WatchTimeoutSeconds(nextResync);
                var watchStarted = time.GetUtcNow();
                downBefore = Interlocked.Read(ref _downSinceTicks);
                var gone = await WatchAsync(timeoutSeconds, backoff, cancellationToken);
                var healthy = gone || _receivedAny || time.GetUtcNow() - watchStarted >= TimeSpan.FromSeconds(timeoutSeconds / 2.0);
                DownSince(healthy ? 0 : downBefore);
                if (gone)
                {
                    logger.WatchGone(Resource.KindName, ResourceVersion);
                    Restarted("gone");
                    listReason = "gone";
                }
                else if (time.GetUtcNow() >= nextResync)
                {
                    listReason = "resync";
                }
                else
                {
                    Restarted("closed");
                    if (healthy)
                    {
                        // the server ended the watch at (about) its timeout: normal, quiet kinds included; watch again at once
                        backoff.Reset();
                    }
                    else
                    {
                        // closed early without a single event or bookmark: do not spin against a misbehaving server
                        await Task.Delay(backoff.Next(), time, cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (KubernetesApiException ex) when (ex.IsGone)
            {
                // a watch or a continue token too old for the server: only a new list can catch up
                Down();
                logger.WatchGone(Resource.KindName, ResourceVersion);
                Restarted("gone");
                listReason = "gone";
            }
            catch (WatchDeadlineException ex)
            {
                // the server should have ended this watch by now: the connection died without closing; watch again at once
                Down();
                logger.WatchPastDeadline(Resource.KindName, Math.Round(ex.After.TotalSeconds), ResourceVersion);
                Restarted("deadline");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // a watch that failed before delivering anything does not count as established: the kind has been down
                // since before it, so a server that accepts every watch and then fails it still turns the kind stale
                if (listReason is not null)
                {
                    Down();
                }
                else
                {
                    DownSince(_receivedAny ? 0 : downBefore);
                }
                if (ex is KubernetesApiException { StatusCode: System.Net.HttpStatusCode.NotFound })
                {
                    // the API server no longer serves the resource (its CRD was deleted): the owner re-discovers now
                    notServed?.Invoke();
                }

                var delay = backoff.Next();
                if (listReason is not null)
                {
                    logger.ListFailed(Resource.KindName, (long)delay.TotalMilliseconds, ex);
                }
                else
                {
                    var reason = ex is HttpRequestException or IOException ? "dropped" : "error";
                    logger.WatchFailed(Resource.KindName, reason, ResourceVersion, (long)delay.TotalMilliseconds, ex);
                    Restarted(reason);
                }

                try
                {
                    await Task.Delay(delay, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>A random server-side timeout in [WatchTimeout, 2×WatchTimeout), cut so the watch ends by the next resync.</summary>
    private int WatchTimeoutSeconds(DateTimeOffset nextResync)
    {
        var seconds = options.WatchTimeoutSeconds * (1 + _random.NextDouble());
        var untilResync = (nextResync - time.GetUtcNow()).TotalSeconds;
        return (int)Math.Max(1, Math.Ceiling(Math.Min(seconds, untilResync)));
    }

    private async Task ListAsync(string reason, CancellationToken cancellationToken)
    {
        var fresh = new Dictionary<string, EgressObject>(StringComparer.Ordinal);
        var skipped = new HashSet<string>(StringComparer.Ordinal);
        var resourceVersion = await api.ListAsync(Resource, options.ListPageSize, item =>
        {
            switch (Decode(item))
            {
                case ({ } key, { } obj):
                    fresh[key] = obj;
                    break;
                case var (key, _):
                    skipped.Add(key);
                    break;
            }
        }, cancellationToken, options.RequestTimeout);

        bool differs;
        lock (_lock)
        {
            differs = RecordDifferences(_objects, fresh);
            _objects = fresh;
            _skipped = skipped;
        }

        var firstSync = !HasSynced;
        _resourceVersion = resourceVersion;
        _hasSynced = true;
        Interlocked.Increment(ref _lists);
        Established();
        Progressed();
        metrics.Relists.WithLabels(Resource.KindName, reason).Inc();
        metrics.Objects.WithLabels(Resource.KindName).Set(fresh.Count);
        logger.Listed(Resource.KindName, fresh.Count, resourceVersion, reason);
        if (differs || firstSync)
        {
            changed(time.GetUtcNow());
        }
    }

    /// <summary>Applies events until the server ends the watch; true when it ended with 410 Gone.</summary>
    private async Task<bool> WatchAsync(int timeoutSeconds, Backoff backoff, CancellationToken cancellationToken)
    {
        _receivedAny = false;
        var deadline = TimeSpan.FromSeconds(timeoutSeconds) + options.WatchGrace;
        var events = api.WatchAsync(Resource, ResourceVersion!, timeoutSeconds, deadline, options.RequestTimeout, Established, cancellationToken);
        await foreach (var ev in events)
        {
            var receivedAt = time.GetUtcNow();
            _receivedAny = true;
            backoff.Reset();
            switch (ev.Type)
            {
                case "ADDED" or "MODIFIED":
                    Apply(ev.Object, delete: false, receivedAt);
                    break;
                case "DELETED":
                    Apply(ev.Object, delete: true, receivedAt);
                    break;
                case "BOOKMARK":
                    _resourceVersion = ResourceVersionOf(ev.Object) ?? _resourceVersion;
                    Progressed();
                    break;
                case "ERROR":
                    var code = ev.Object.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : 0;
                    if (code == 410)
                    {
                        return true;
                    }

                    throw new KubernetesApiException((System.Net.HttpStatusCode)code,
                        $"watch error {code}: {KubernetesApi.GetString(ev.Object, "message")}");
                default:
                    break;
            }
        }

        return false;
    }

    private void Apply(JsonElement json, bool delete, DateTimeOffset receivedAt)
    {
        var rv = ResourceVersionOf(json);
        bool differs;
        if (delete)
        {
            var key = KeyOf(json);
            lock (_lock)
            {
                differs = RemoveRecorded(key);
                _skipped.Remove(key);
            }
        }
        else
        {
            var (key, obj) = Decode(json);
            lock (_lock)
            {
                if (obj is null)
                {
                    differs = RemoveRecorded(key);
                    _skipped.Add(key);
                }
                else
                {
                    _skipped.Remove(key);
                    differs = !_objects.TryGetValue(key, out var old) || Differs(old, obj);
                    if (old is not null && old.Key != obj.Key)
                    {
                        _changes.Add(SnapshotChange.Delete(old.Key));
                    }

                    _objects[key] = obj;
                    if (differs)
                    {
                        _changes.Add(SnapshotChange.Put(obj));
                    }
                }
            }
        }

        _resourceVersion = rv ?? _resourceVersion;
        Progressed();
        metrics.Objects.WithLabels(Resource.KindName).Set(Count);
        if (differs)
        {
            changed(receivedAt);
        }
    }

    private (string Key, EgressObject? Object) Decode(JsonElement json)
    {
        var key = KeyOf(json);
        try
        {
            var obj = ObjectDecoder.Decode(json, "default");
            return (key, obj?.ResourceKind == Resource.Kind ? obj : null);
        }
        catch (DecodeException ex)
        {
            metrics.DecodeErrors.WithLabels(Resource.KindName).Inc();
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            logger.Undecodable(Resource.KindName, key[..slash], key[(slash + 1)..], ex.Describe());
            return (key, null);
        }
    }

    private static string KeyOf(JsonElement json)
    {
        if (!json.TryGetProperty("metadata", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            return "/";
        }

        return $"{KubernetesApi.GetString(meta, "namespace")}/{KubernetesApi.GetString(meta, "name")}";
    }

    private static string? ResourceVersionOf(JsonElement json) =>
        json.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object ? KubernetesApi.GetString(meta, "resourceVersion") : null;

    private static bool Differs(EgressObject old, EgressObject obj) =>
        old.Metadata.ResourceVersion != obj.Metadata.ResourceVersion || old.Metadata.ResourceVersion is null;

    /// <summary>Removes <paramref name="key"/> and records the deletion; whether it was cached. Caller holds the lock.</summary>
    private bool RemoveRecorded(string key)
    {
        if (!_objects.Remove(key, out var old))
        {
            return false;
        }

        _changes.Add(SnapshotChange.Delete(old.Key));
        return true;
    }

    /// <summary>Records what a list changes (objects new or with another resourceVersion, objects gone); whether it
    /// changes anything. Caller holds the lock.</summary>
    private bool RecordDifferences(Dictionary<string, EgressObject> old, Dictionary<string, EgressObject> fresh)
    {
        var before = _changes.Count;
        foreach (var (key, obj) in old)
        {
            if (!fresh.TryGetValue(key, out var other) || other.Key != obj.Key)
            {
                _changes.Add(SnapshotChange.Delete(obj.Key));
            }
        }

        foreach (var (key, obj) in fresh)
        {
            if (!old.TryGetValue(key, out var other) || Differs(other, obj))
            {
                _changes.Add(SnapshotChange.Put(obj));
            }
        }

        return _changes.Count > before;
    }

    /// <summary>A list completed or the server accepted a watch: the kind is current as far as the API server can tell.</summary>
    private void Established() => Interlocked.Exchange(ref _downSinceTicks, 0);

    /// <summary>The list or watch ended or failed: stale if nothing is re-established within StaleAfter.</summary>
    private void Down() => Interlocked.CompareExchange(ref _downSinceTicks, time.GetUtcNow().UtcTicks, 0);

    /// <summary>Down since <paramref name="ticks"/> (the time a kind was already down before a watch that was accepted
    /// but delivered nothing), or since now when it is 0.</summary>
    private void DownSince(long ticks) => Interlocked.Exchange(ref _downSinceTicks, ticks != 0 ? ticks : time.GetUtcNow().UtcTicks);

    private void Progressed()
    {
        var now = time.GetUtcNow();
        metrics.LastSync.WithLabels(Resource.KindName).Set(now.ToUnixTimeMilliseconds() / 1000.0);
    }

    private void Restarted(string reason)
    {
        Interlocked.Increment(ref _restarts);
        metrics.WatchRestarts.WithLabels(Resource.KindName, reason).Inc();
    }
}
