using System.Diagnostics;
using System.Threading.Channels;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Cluster;

/// <summary>Keeps <see cref="SnapshotStore"/> equal to the cluster: discovers the served networking.istio.io
/// version, runs one <see cref="ResourceInformer"/> per kind, and publishes a new immutable snapshot after changes,
/// batched over <see cref="ClusterOptions.Debounce"/>: the informers' recorded changes applied to the last published
/// snapshot (<see cref="EgressSnapshot.Apply"/>), which costs what changed, not the size of the cluster. Nothing is published until every kind has synced once, so
/// /readyz (<see cref="SnapshotStore.IsReady"/>) fails until then. Each replica keeps its own cache.</summary>
/// <remarks>The optional kinds (<see cref="ClusterResource.OptionalGroups"/>: Gateway API, security.istio.io, the
/// project's EgressPolicy) are re-discovered every <see cref="ClusterOptions.Rediscover"/>, and at once when one of
/// their lists or watches answers 404: a kind newly served gets an informer that joins the published set only after
/// its first list (until then it neither blocks publishing nor makes the cache not synced or stale); a kind no longer
/// served has its informer stopped and its objects dropped from the next snapshot; a kind served at another version
/// keeps its old informer published until the new version's first list. A failed re-discovery keeps the kinds being
/// watched.</remarks>
internal sealed class ClusterSnapshotSource(
    KubernetesApi api,
    SnapshotStore store,
    IOptions<ClusterOptions> options,
    TimeProvider time,
    ClusterMetrics metrics,
    ILogger<ClusterSnapshotSource> logger) : BackgroundService, ICacheHealth
{
    public const string SourceName = "cluster";

    private readonly ClusterOptions _options = options.Value;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _rediscover = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _membership = new(); // guards _pending, _optional, _replacing, _optionalTasks and writes of _informers
    private readonly List<ResourceInformer> _pending = []; // optional informers started after start-up, first list not done
    private readonly Dictionary<ClusterResource, CancellationTokenSource> _optional = [];
    // a published optional kind whose served version changed, to the resource of its successor (same group and kind,
    // another version): kept published until the successor's first list, so the kind's objects are never absent
    private readonly Dictionary<ClusterResource, ClusterResource> _replacing = [];
    private readonly List<Task> _optionalTasks = [];
    private CancellationToken _stopping;
    private int _rebuild; // 1: the set of published informers changed, so the next snapshot is built from all objects
    private volatile ResourceInformer[] _informers = [];
    private long _firstPendingTicks;
    private volatile bool _published;
    private EgressSnapshot? _last; // read and written by the publish loop only

    /// <summary>The resources being watched (empty until discovery has picked the Istio version).</summary>
    public IReadOnlyList<ClusterResource> Resources => _informers.Select(i => i.Resource).ToArray();

    public IReadOnlyList<ResourceInformer> Informers => _informers;

    public bool IsSynced => store.IsReady && _informers.Length > 0 && _informers.All(i => i.HasSynced);

    public bool IsStale
    {
        get
        {
            var now = time.GetUtcNow();
            return _informers.Any(i => i.IsStale(now, _options.StaleAfter));
        }
    }

    public NotSyncedBehavior WhenNotSynced => _options.WhenNotSynced;

    public string? Describe()
    {
        var informers = _informers;
        if (informers.Length == 0)
        {
            return "the egress webhook has not reached the Kubernetes API yet; retry shortly";
        }

        var unsynced = informers.Where(i => !i.HasSynced).Select(i => i.Resource.KindName).ToArray();
        if (unsynced.Length > 0 || !store.IsReady)
        {
            return $"the egress webhook cache has not synced yet ({string.Join(", ", unsynced)}); retry shortly";
        }

        var now = time.GetUtcNow();
        var stale = informers.Where(i => i.IsStale(now, _options.StaleAfter)).Select(i => i.Resource.KindName).ToArray();
        return stale.Length > 0
            ? $"the egress webhook cache is stale: cannot watch {string.Join(", ", stale)}; retry shortly"
            : null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = Stopwatch.StartNew();
        var version = await DiscoverIstioVersionAsync(stoppingToken);
        if (version is null)
        {
            return;
        }

        var optional = await DiscoverOptionalAsync(stoppingToken);
        _stopping = stoppingToken;
        var required = ClusterResource.All(version, _options.MeshNamespace)
            .Select(r => new ResourceInformer(r, api, _options, time, metrics, logger, Changed))
            .ToArray();
        var tasks = required.Select(i => Task.Run(() => i.RunAsync(stoppingToken), CancellationToken.None)).ToList();
        lock (_membership)
        {
            // the kinds served at start-up are part of the first sync, as the required ones
            _informers = [.. required, .. optional.Select(StartOptional)];
        }

        tasks.Add(PublishLoopAsync(started, stoppingToken));
        tasks.Add(StaleLoopAsync(stoppingToken));
        tasks.Add(RediscoverLoopAsync(stoppingToken));
        await Task.WhenAll(tasks);
        Task[] rest;
        lock (_membership)
        {
            rest = [.. _optionalTasks];
        }

        await Task.WhenAll(rest);
    }

    /// <summary>Starts an informer for an optional kind, stoppable on its own. Caller holds <see cref="_membership"/>.</summary>
    private ResourceInformer StartOptional(ClusterResource resource)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        var informer = new ResourceInformer(resource, api, _options, time, metrics, logger, Changed, notServed: RequestRediscovery);
        _optional[resource] = cts;
        _optionalTasks.RemoveAll(t => t.IsCompleted);
        var task = Task.Run(() => informer.RunAsync(cts.Token), CancellationToken.None);
        _optionalTasks.Add(task.ContinueWith(t => Ended(resource, cts, t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        return informer;
    }

    /// <summary>An optional informer's task ended: stopped (cancelled), or failed, which its own retry loop should never
    /// let happen. A failed kind is logged and forgotten, so that the next re-discovery starts it again.</summary>
    private void Ended(ClusterResource resource, CancellationTokenSource cts, Task task)
    {
        if (task.Exception?.GetBaseException() is { } error && !cts.IsCancellationRequested)
        {
            logger.OptionalKindFailed(resource.KindName, resource.ApiVersion, error);
            lock (_membership)
            {
                if (_optional.TryGetValue(resource, out var current) && current == cts)
                {
                    _optional.Remove(resource);
                    _replacing.Remove(resource); // its successor, if any, is pending: it joins on its own
                    _informers = [.. _informers.Where(i => i.Resource != resource)];
                    _pending.RemoveAll(i => i.Resource == resource);
                    Interlocked.Exchange(ref _rebuild, 1);
                }
            }

            _signal.Writer.TryWrite(true);
            RequestRediscovery();
        }

        cts.Dispose();
    }

    /// <summary>An optional kind's list or watch answered 404: re-discover now rather than at the next period.</summary>
    private void RequestRediscovery() => _rediscover.Writer.TryWrite(true);

    /// <summary>Every <see cref="ClusterOptions.Rediscover"/> (or at once when asked), the optional kinds served now:
    /// informers started for new ones, stopped for gone ones; a failure keeps the current kinds until the next round.</summary>
    private async Task RediscoverLoopAsync(CancellationToken cancellationToken)
    {
        if (_options.RediscoverSeconds <= 0)
        {
            return;
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    await Task.WhenAny(Task.Delay(_options.Rediscover, time, wait.Token), _rediscover.Reader.WaitToReadAsync(wait.Token).AsTask());
                    await wait.CancelAsync();
                }

                cancellationToken.ThrowIfCancellationRequested();
                _rediscover.Reader.TryRead(out _);
                IReadOnlyList<ClusterResource> found;
                try
                {
                    found = await DiscoverOptionalOnceAsync(log: false, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    int watched;
                    lock (_membership)
                    {
                        watched = _optional.Count;
                    }

                    logger.RediscoveryFailed(watched, ex);
                    continue;
                }

                Reconcile(found);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Starts informers for the optional kinds in <paramref name="found"/> not watched yet (pending until their
    /// first list), and stops those no longer served, whose objects leave the next snapshot. A published kind whose
    /// version changed (<paramref name="found"/> has the same group and kind at another version, not published yet) is
    /// kept until <see cref="TakeMembership"/> promotes its successor.</summary>
    private void Reconcile(IReadOnlyList<ClusterResource> found)
    {
        var stopped = new List<CancellationTokenSource>();
        lock (_membership)
        {
            var wanted = found.ToHashSet();
            foreach (var (resource, cts) in _optional.ToArray())
            {
                if (wanted.Contains(resource))
                {
                    _replacing.Remove(resource); // served again as the preferred version: its successor is stopped below
                    continue;
                }

                if (_informers.Any(i => i.Resource == resource)
                    && found.FirstOrDefault(r => SameKind(r, resource)) is { } successor
                    && !_informers.Any(i => i.Resource == successor))
                {
                    if (!_replacing.TryGetValue(resource, out var before) || before != successor)
                    {
                        _replacing[resource] = successor;
                        logger.OptionalKindReplacing(resource.KindName, resource.ApiVersion, successor.ApiVersion);
                    }

                    continue;
                }

                _replacing.Remove(resource);
                stopped.Add(cts);
                _optional.Remove(resource);
                var cached = _informers.FirstOrDefault(i => i.Resource == resource)?.Count ?? 0;
                Interlocked.Exchange(ref _rebuild, 1);
                _informers = [.. _informers.Where(i => i.Resource != resource)];
                _pending.RemoveAll(i => i.Resource == resource);
                logger.OptionalKindStopped(resource.KindName, resource.ApiVersion, cached);
            }

            foreach (var resource in found.Where(r => !_optional.ContainsKey(r)))
            {
                _pending.Add(StartOptional(resource));
                logger.OptionalKindStarted(resource.KindName, resource.ApiVersion);
            }
        }

        // cancelled outside the lock: the informers' cancellation callbacks run on this thread
        Cancel(stopped);
        if (stopped.Count > 0)
        {
            _signal.Writer.TryWrite(true);
        }
    }

    /// <summary>The same optional kind at another version (a CRD's served version changed).</summary>
    private static bool SameKind(ClusterResource a, ClusterResource b) =>
        a != b && a.KindName == b.KindName && a.Plural == b.Plural && Group(a.ApiVersion) == Group(b.ApiVersion);

    private static string Group(string apiVersion) =>
        apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.LastIndexOf('/')] : "";

    private static void Cancel(List<CancellationTokenSource> stopped)
    {
        foreach (var cts in stopped)
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // its task had already ended (Ended disposed the source): nothing left to stop
            }
        }
    }

    /// <summary>Moves the pending optional informers whose first list has completed into the published set (stopping
    /// the older version each replaces, in the same step, so the kind's objects are never absent), then takes that set
    /// and whether it changed since the last publish, both under the lock: an informer that joins or leaves between
    /// the two reads cannot have its objects applied as (or left out of) recorded changes.</summary>
    private (ResourceInformer[] Informers, bool Rebuild) TakeMembership()
    {
        var replaced = new List<CancellationTokenSource>();
        (ResourceInformer[], bool) taken;
        lock (_membership)
        {
            var synced = _pending.Where(i => i.HasSynced).ToArray();
            if (synced.Length > 0)
            {
                _pending.RemoveAll(synced.Contains);
                var retired = new HashSet<ClusterResource>();
                foreach (var successor in synced)
                {
                    foreach (var old in _replacing.Where(p => p.Value == successor.Resource).Select(p => p.Key).ToArray())
                    {
                        _replacing.Remove(old);
                        retired.Add(old);
                        if (_optional.Remove(old, out var cts))
                        {
                            replaced.Add(cts);
                        }

                        var cached = _informers.FirstOrDefault(i => i.Resource == old)?.Count ?? 0;
                        logger.OptionalKindReplaced(old.KindName, old.ApiVersion, cached, successor.Resource.ApiVersion, successor.Count);
                    }
                }

                _informers = [.. _informers.Where(i => !retired.Contains(i.Resource)), .. synced];
                _rebuild = 1;
            }

            taken = (_informers, Interlocked.Exchange(ref _rebuild, 0) == 1);
        }

        // cancelled outside the lock, as in Reconcile
        Cancel(replaced);
        return taken;
    }

    /// <summary>Called by informers after each change; <paramref name="receivedAt"/> feeds the event-lag metric.</summary>
    private void Changed(DateTimeOffset receivedAt)
    {
        Interlocked.CompareExchange(ref _firstPendingTicks, receivedAt.UtcTicks, 0);
        _signal.Writer.TryWrite(true);
    }

    private async Task PublishLoopAsync(Stopwatch started, CancellationToken cancellationToken)
    {
        try
        {
            while (await _signal.Reader.WaitToReadAsync(cancellationToken))
            {
                _signal.Reader.TryRead(out _);
                if (_options.DebounceMilliseconds > 0)
                {
                    await Task.Delay(_options.Debounce, time, cancellationToken);
                }

                _signal.Reader.TryRead(out _);
                var (informers, rebuild) = TakeMembership();
                if (rebuild)
                {
                    // an informer joined or left: its objects are not among the recorded changes
                    _last = null;
                }

                if (!informers.All(i => i.HasSynced))
                {
                    continue;
                }

                var pending = Interlocked.Exchange(ref _firstPendingTicks, 0);
                EgressSnapshot snapshot;
                try
                {
                    snapshot = Next(informers);
                }
                catch (Exception ex)
                {
                    // keep serving the last snapshot; the next change rebuilds it from the informers' objects
                    _last = null;
                    logger.PublishFailed(ex);
                    continue;
                }

                store.Publish(snapshot, SourceName);
                metrics.PublishedObjects.Set(snapshot.Count);
                if (pending != 0)
                {
                    metrics.EventLag.Observe(Math.Max(0, (time.GetUtcNow() - new DateTimeOffset(pending, TimeSpan.Zero)).TotalSeconds));
                }

                if (!_published)
                {
                    _published = true;
                    metrics.Synced.Set(1);
                    logger.Synced(snapshot.Count, (long)started.Elapsed.TotalMilliseconds);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The last published snapshot with the informers' recorded changes applied (the cost follows the
    /// changes); built from every cached object the first time, or after a failure.</summary>
    private EgressSnapshot Next(ResourceInformer[] informers)
    {
        if (_last is not { } last)
        {
            // taking the objects clears the recorded changes in the same step, so none is lost or counted twice
            return _last = EgressSnapshot.Create(informers.SelectMany(i => i.TakeObjects()));
        }

        var changes = new List<SnapshotChange>();
        foreach (var informer in informers)
        {
            changes.AddRange(informer.TakeChanges());
        }

        return _last = last.Apply(changes);
    }

    private async Task StaleLoopAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(_options.StaleAfterSeconds / 4, 0.05, 5));
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                metrics.Stale.Set(IsStale ? 1 : 0);
                await Task.Delay(period, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The optional kinds the cluster serves at start-up: the Gateway API routes and the project's EgressPolicy (a
    /// cluster without their CRDs has none, and the cache works without them). A failing API server is retried with
    /// backoff, as for the Istio version. A CRD installed later is picked up by <see cref="RediscoverLoopAsync"/>.</summary>
    private async Task<IReadOnlyList<ClusterResource>> DiscoverOptionalAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff, Random.Shared);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                return await DiscoverOptionalOnceAsync(log: true, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var delay = backoff.Next();
                logger.DiscoveryFailed((long)delay.TotalMilliseconds, ex);
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

        return [];
    }

    /// <summary>One discovery of every optional group; throws when the API server fails (a 404 is "not served").</summary>
    private async Task<IReadOnlyList<ClusterResource>> DiscoverOptionalOnceAsync(bool log, CancellationToken cancellationToken)
    {
        var found = new List<ClusterResource>();
        foreach (var group in ClusterResource.OptionalGroups)
        {
            var served = await api.ServedVersionsAsync(group, cancellationToken);
            var byVersion = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
            foreach (var version in ClusterResource.OptionalVersions(group, served))
            {
                byVersion[version] = await api.ServedResourcesAsync(group, version, cancellationToken);
            }

            var resources = ClusterResource.Optional(group, byVersion);
            if (log && logger.IsEnabled(LogLevel.Information))
            {
                logger.OptionalKinds(group, resources.Count == 0 ? "none" : string.Join(", ", resources.Select(r => $"{r.KindName} {r.ApiVersion}")));
            }

            found.AddRange(resources);
        }

        return found;
    }

    /// <summary>The served networking.istio.io version to watch (v1, else v1beta1, else v1alpha3), retried with
    /// backoff until the API server answers and serves one; null only when stopping.</summary>
    private async Task<string?> DiscoverIstioVersionAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff, Random.Shared);
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                var served = await api.ServedVersionsAsync(ClusterResource.IstioGroup, cancellationToken);
                if (ClusterResource.PickIstioVersion(served) is { } version)
                {
                    if (logger.IsEnabled(LogLevel.Information))
                    {
                        logger.IstioVersion(version, string.Join(",", served));
                    }
                    return version;
                }

                delay = backoff.Next();
                if (logger.IsEnabled(LogLevel.Warning))
                {
                    logger.IstioNotServed(served.Count == 0 ? "none" : string.Join(",", served), (long)delay.TotalMilliseconds);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                delay = backoff.Next();
                logger.DiscoveryFailed((long)delay.TotalMilliseconds, ex);
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

        return null;
    }
}
