using System.Threading.Channels;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Leadership;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using k8s;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Generation;

/// <summary>The generator (<c>Webhook:Generator:Enabled</c>): while this replica holds the coordination.k8s.io Lease
/// (<see cref="LeaderLease"/>: the election; this class: the reconcile loop and its writes),
/// it brings the cluster to the routing that <see cref="RoutingReconciler"/> plans from the live-cluster snapshot:
/// server-side applies the missing or different objects (field manager <c>egress-webhook</c>) and deletes the
/// generated objects that are no longer planned. A pass runs after each published snapshot, every
/// <see cref="GeneratorOptions.ResyncSeconds"/>, and after a backoff when a write failed.</summary>
/// <remarks>Writes are idempotent, so a pass that sees the cache a moment behind its own writes would at worst repeat
/// an apply (a no-op on the API server) or a delete (404, done); a write is not repeated while the cache has not
/// caught up with it (see <see cref="Written"/>), except by the periodic pass. Losing the Lease cancels the writes in
/// flight and no further write is sent until the Lease is held again.</remarks>
internal sealed class RoutingGenerator : BackgroundService
{
    private readonly KubernetesApi _api;
    private readonly ClusterSnapshotSource _source;
    private readonly SnapshotStore _store;
    private readonly GeneratorOptions _options;
    private readonly MutationPolicy _policy;
    private readonly GeneratorMetrics _metrics;
    private readonly ILogger<RoutingGenerator> _logger;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<ObjectKey, Written> _written = [];
    private readonly LeaderLease _lease;
    private CancellationTokenSource? _writtenTerm;

    private readonly TimeProvider _time;

    public RoutingGenerator(KubernetesApi api, Kubernetes client, ClusterSnapshotSource source, SnapshotStore store, IOptions<GeneratorOptions> options,
        IOptions<WebhookOptions> webhook, GeneratorMetrics metrics, ILogger<RoutingGenerator> logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _api = api;
        _source = source;
        _store = store;
        _options = options.Value;
        _policy = webhook.Value.ToMutationPolicy();
        _metrics = metrics;
        _logger = logger;
        var identity = string.IsNullOrWhiteSpace(_options.Identity) ? GeneratorOptions.DefaultIdentity() : _options.Identity;
        _lease = new LeaderLease(client, "Generator", new LeaseSettings(_options.EffectiveLeaseNamespace, _options.LeaseName, identity,
            _options.LeaseDuration, _options.RenewDeadline, _options.RetryPeriod), logger, _time);
        _lease.StartedLeading += OnStartedLeading;
        _lease.StoppedLeading += OnStoppedLeading;
    }

    /// <summary>This replica's holder identity in the Lease.</summary>
    public string Identity => _lease.Settings.Identity;

    /// <summary>Whether this replica holds the Lease now (and so may write).</summary>
    public bool IsLeader => _lease.IsLeader;

    /// <summary>The snapshot the last completed pass planned from (tests wait on it).</summary>
    public SnapshotState? LastPass { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _store.Published += OnPublished;
        try
        {
            await Task.WhenAll(
                Task.Run(() => _lease.RunAsync(stoppingToken), CancellationToken.None),
                Task.Run(() => ReconcileLoopAsync(stoppingToken), CancellationToken.None));
        }
        finally
        {
            _store.Published -= OnPublished;
        }
    }

    private void OnPublished(SnapshotState state) => _signal.Writer.TryWrite(true);

    private void OnStartedLeading()
    {
        _metrics.Leader.Set(1);
        _signal.Writer.TryWrite(true);
    }

    private void OnStoppedLeading() => _metrics.Leader.Set(0);

    private async Task ReconcileLoopAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff, Random.Shared);
        var runNow = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (!runNow)
                {
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    wait.CancelAfter(_options.Resync);
                    try
                    {
                        await _signal.Reader.WaitToReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // the periodic pass
                    }
                }

                var periodic = !runNow && !_signal.Reader.TryPeek(out _);
                runNow = false;
                _signal.Reader.TryRead(out _);
                if (_lease.Term is not { } term || !_store.IsReady || _source.Resources.Count == 0)
                {
                    continue;
                }

                // a cache that has not synced, or has stopped hearing from a watch, may lack entries or the gateway
                // Service: planning from it could delete routing that live entries still need. Wait for it, and look
                // again shortly: its recovery need not publish anything new that would wake this loop.
                if (!_source.IsSynced || _source.IsStale)
                {
                    _metrics.Passes.WithLabels("deferred").Inc();
                    await Task.Delay(_options.RetryPeriod, _time, stoppingToken);
                    runNow = true;
                    continue;
                }

                if (periodic || !ReferenceEquals(term, _writtenTerm))
                {
                    // a new term, or the periodic pass: every planned write is sent again, whatever was sent before
                    _written.Clear();
                    _writtenTerm = term;
                }

                int failed;
                try
                {
                    failed = await PassAsync(term.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // a bug must not end the process (a BackgroundService that throws stops the host): log and retry
                    _logger.PassCrashed(ex);
                    failed = 1;
                }

                if (failed == 0)
                {
                    backoff.Reset();
                    continue;
                }

                // retry the whole pass (against the then current snapshot) after a backoff; changes meanwhile wait too
                var delay = backoff.Next();
                _logger.PassFailed(failed, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, _time, stoppingToken);
                runNow = true;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One reconcile pass over the current snapshot; returns the number of failed writes (planning failure counts as one).</summary>
    private async Task<int> PassAsync(CancellationToken term)
    {
        var state = _store.Current;
        RoutingChanges changes;
        try
        {
            changes = RoutingReconciler.Reconcile(SnapshotView.Of(state.Snapshot), _policy);
        }
        catch (Exception ex)
        {
            _logger.PassCrashed(ex);
            _metrics.Passes.WithLabels("error").Inc();
            return 1;
        }

        _metrics.Pending.Set(changes.Apply.Count + changes.Delete.Count);
        // the routing kinds the generator writes (Gateway API routes share one model kind and are never written)
        var resources = _source.Resources.Where(r => r.Kind != Core.Model.ResourceKind.GatewayApiRoute).ToDictionary(r => r.Kind);
        var entryApiVersion = resources[ResourceKind.ServiceEntry].ApiVersion;
        var failed = 0;

        // in Core's dependency order: Gateways, DestinationRules, gateway legs, then mesh legs
        foreach (var obj in changes.Apply)
        {
            if (!IsLeader || term.IsCancellationRequested)
            {
                return failed;
            }

            var resource = resources[obj.ResourceKind];
            var manifest = Manifest(obj, resource.ApiVersion, entryApiVersion);
            var cached = state.Snapshot.Find(obj.Key)?.Metadata.ResourceVersion;
            if (_written.TryGetValue(obj.Key, out var sent) && sent.Manifest == manifest && sent.CachedResourceVersion == cached)
            {
                continue;
            }

            if (await WriteAsync("apply", obj, () => _api.ApplyAsync(resource, obj.Namespace, obj.Name, manifest, GeneratorOptions.FieldManager, term), term))
            {
                _written[obj.Key] = new Written(manifest, cached);
            }
            else
            {
                _written.Remove(obj.Key);
                failed++;
            }
        }

        // and the other way round for deletes: mesh legs first, then what they referenced
        foreach (var obj in changes.Delete)
        {
            if (!IsLeader || term.IsCancellationRequested)
            {
                return failed;
            }

            // never anything the project did not generate for a ServiceEntry
            if (ManagedBy.ServiceEntryOwner(obj) is null)
            {
                continue;
            }

            if (_written.TryGetValue(obj.Key, out var sent) && sent.Manifest is null && sent.CachedResourceVersion == obj.Metadata.ResourceVersion)
            {
                continue;
            }

            var resource = resources[obj.ResourceKind];
            if (await WriteAsync("delete", obj, () => _api.DeleteAsync(resource, obj.Namespace, obj.Name, obj.Metadata.Uid, obj.Metadata.ResourceVersion, term), term))
            {
                _written[obj.Key] = new Written(null, obj.Metadata.ResourceVersion);
            }
            else
            {
                _written.Remove(obj.Key);
                failed++;
            }
        }

        if (!term.IsCancellationRequested)
        {
            _metrics.Passes.WithLabels(failed == 0 ? "ok" : "error").Inc();
            LastPass = state;
        }

        return failed;
    }

    /// <summary>One write; false when it failed (logged and counted). Cancellation by a lost Lease is not a failure.</summary>
    private async Task<bool> WriteAsync(string operation, EgressObject obj, Func<Task> write, CancellationToken term)
    {
        try
        {
            await write();
            _metrics.Writes.WithLabels(obj.KindName, operation, "ok").Inc();
            if (_logger.IsEnabled(LogLevel.Information))
            {
                if (operation == "apply")
                {
                    _logger.Applied(obj.KindName, obj.Namespace, obj.Name);
                }
                else
                {
                    _logger.Deleted(obj.KindName, obj.Namespace, obj.Name);
                }
            }

            return true;
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
            return true;
        }
        catch (Exception ex)
        {
            _metrics.Writes.WithLabels(obj.KindName, operation, "error").Inc();
            _logger.WriteFailed(operation, obj.KindName, obj.Namespace, obj.Name, ex.Message, ex);
            return false;
        }
    }

    /// <summary>The apply body: the planned object as JSON (JSON is YAML) at the served networking.istio.io version,
    /// owner references included.</summary>
    internal static string Manifest(EgressObject obj, string apiVersion, string entryApiVersion)
    {
        var json = ManifestWriter.ToJson(obj);
        json["apiVersion"] = apiVersion;
        if (json["metadata"]?["ownerReferences"] is System.Text.Json.Nodes.JsonArray owners)
        {
            foreach (var owner in owners)
            {
                if (owner?["kind"]?.GetValue<string>() == "ServiceEntry")
                {
                    owner["apiVersion"] = entryApiVersion;
                }
            }
        }

        return json.ToJsonString();
    }

    /// <summary>A write this term sent: the manifest applied (null for a delete) and the object's resourceVersion in
    /// the cache when it was sent. While the cache still shows that resourceVersion it has not caught up with the
    /// write, and the same write is not sent again (a pass that runs on the events of the first writes of a pass would
    /// otherwise repeat the others).</summary>
    private sealed record Written(string? Manifest, string? CachedResourceVersion);
}
