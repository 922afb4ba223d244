using System.Text.Json;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Server.Cluster;

/// <summary>A list-and-watch cache of one resource: list, then watch from the list's resourceVersion with bookmarks;
/// on 410 Gone re-list; on a dropped or stalled watch resume from the last resourceVersion seen (after a jittered
/// backoff for failures); re-list every <see cref="ClusterOptions.Resync"/> as a safety net.</summary>
/// <remarks>Objects are keyed by namespace/name and kept as decoded <see cref="EgressObject"/>s (Core's one decode
/// path); an object that does not decode (not a mesh ConfigMap, or a field of the wrong type) is left out, so an
/// update that makes it undecodable removes the stale version. <see cref="Objects"/> copies under a lock held only
/// for one event, so readers never wait on the network.</remarks>
internal sealed class ResourceInformer(
    ClusterResource resource,
    KubernetesApi api,
    ClusterOptions options,
    TimeProvider time,
    ClusterMetrics metrics,
    ILogger logger,
    Action<DateTimeOffset> changed,
    Random? random = null)
{
    private readonly Lock _lock = new();
    private readonly Random _random = random ?? Random.Shared;
    private Dictionary<string, EgressObject> _objects = new(StringComparer.Ordinal);
    private long _failingSinceTicks; // 0 = healthy; read by admission threads through IsStale
    private volatile bool _stalled;
    private volatile bool _hasSynced;
    private volatile string? _resourceVersion;
    private bool _receivedAny;
    private long _restarts;
    private long _lists;

    public ClusterResource Resource { get; } = resource;

    /// <summary>Whether the first list has completed.</summary>
    public bool HasSynced => _hasSynced;

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

    /// <summary>A copy of the cached objects.</summary>
    public EgressObject[] Objects()
    {
        lock (_lock)
        {
            return [.. _objects.Values];
        }
    }

    /// <summary>Whether list/watch has been failing for longer than <paramref name="threshold"/>.</summary>
    public bool IsStale(DateTimeOffset now, TimeSpan threshold) =>
        Interlocked.Read(ref _failingSinceTicks) is var ticks && ticks != 0 && now - new DateTimeOffset(ticks, TimeSpan.Zero) > threshold;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(options.MinBackoff, options.MaxBackoff, _random);
        var listReason = "initial";
        var nextResync = DateTimeOffset.MaxValue;
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

                var gone = await WatchAsync(WatchTimeoutSeconds(nextResync), backoff, cancellationToken);
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
                    if (!_receivedAny)
                    {
                        // closed at once without a single event or bookmark: do not spin against a misbehaving server
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
                logger.WatchGone(Resource.KindName, ResourceVersion);
                Restarted("gone");
                listReason = "gone";
            }
            catch (WatchStalledException)
            {
                // a silent stream that the server accepts again is still not proof of health: wait for an event or bookmark
                _stalled = true;
                Failing();
                logger.WatchStalled(Resource.KindName, options.StallTimeoutSeconds, ResourceVersion);
                Restarted("stalled");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Failing();
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
        var resourceVersion = await api.ListAsync(Resource, options.ListPageSize, item =>
        {
            if (Decode(item) is ({ } key, { } obj))
            {
                fresh[key] = obj;
            }
        }, cancellationToken);

        bool differs;
        lock (_lock)
        {
            differs = !SameContent(_objects, fresh);
            _objects = fresh;
        }

        var firstSync = !HasSynced;
        _resourceVersion = resourceVersion;
        _hasSynced = true;
        Interlocked.Increment(ref _lists);
        Healthy();
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
        var events = api.WatchAsync(Resource, ResourceVersion!, timeoutSeconds, options.StallTimeout, Connected, cancellationToken);
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
                    Healthy();
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
                differs = _objects.Remove(key);
            }
        }
        else
        {
            var (key, obj) = Decode(json);
            lock (_lock)
            {
                if (obj is null)
                {
                    differs = _objects.Remove(key);
                }
                else
                {
                    differs = !_objects.TryGetValue(key, out var old) || old.Metadata.ResourceVersion != obj.Metadata.ResourceVersion || old.Metadata.ResourceVersion is null;
                    _objects[key] = obj;
                }
            }
        }

        _resourceVersion = rv ?? _resourceVersion;
        Healthy();
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

    private static bool SameContent(Dictionary<string, EgressObject> a, Dictionary<string, EgressObject> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, obj) in a)
        {
            if (!b.TryGetValue(key, out var other) || other.Metadata.ResourceVersion != obj.Metadata.ResourceVersion || obj.Metadata.ResourceVersion is null)
            {
                return false;
            }
        }

        return true;
    }

    private void Connected()
    {
        if (!_stalled)
        {
            Interlocked.Exchange(ref _failingSinceTicks, 0);
        }
    }

    private void Healthy()
    {
        _stalled = false;
        Interlocked.Exchange(ref _failingSinceTicks, 0);
        var now = time.GetUtcNow();
        metrics.LastSync.WithLabels(Resource.KindName).Set(now.ToUnixTimeMilliseconds() / 1000.0);
    }

    private void Failing() => Interlocked.CompareExchange(ref _failingSinceTicks, time.GetUtcNow().UtcTicks, 0);

    private void Restarted(string reason)
    {
        Interlocked.Increment(ref _restarts);
        metrics.WatchRestarts.WithLabels(Resource.KindName, reason).Inc();
    }
}
