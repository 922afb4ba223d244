using System.Collections.Concurrent;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;
using Prometheus;

namespace EgressWebhook.Server.Admission;

/// <summary>What is still missing for one admitted object after the grace period.</summary>
/// <param name="Object">The object the findings are about (as stored, when the snapshot has it).</param>
/// <param name="Uid">Its metadata.uid, when known (the Event's involvedObject).</param>
/// <param name="Findings">The incompleteness findings that still hold.</param>
internal sealed record IncompleteChain(ObjectRef Object, string? Uid, IReadOnlyList<Finding> Findings)
{
    /// <summary>The Event's reason.</summary>
    public const string Reason = "EgressChainIncomplete";

    /// <summary>One line: <c>still awaiting the gateway leg for edition.cnn.com (EGW113 spec.tls[0].route[0]); …</c>.</summary>
    public string Message => string.Join("; ", Findings.Select(f => $"still awaiting {f.Awaits?.What} ({f.Rule} {f.Path}): {f.Message}"));
}

/// <summary>Where an incomplete chain is reported besides the log, audit line and metric: a Kubernetes Event on the
/// object in cluster mode (<see cref="ClusterChainEvents"/>); none with the state directory.</summary>
internal interface IChainEventSink
{
    Task ReportAsync(IncompleteChain chain, CancellationToken cancellationToken);
}

/// <summary>The null object of <see cref="IChainEventSink"/> (the state directory: no object to put an Event on).</summary>
internal sealed class NoChainEvents : IChainEventSink
{
    public static NoChainEvents Instance { get; } = new();

    public Task ReportAsync(IncompleteChain chain, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The grace-period re-check of admitted incompleteness: a change admitted with findings that rest on a missing
/// object (<see cref="AdmissionDecision.Awaiting"/>) is checked again after <c>Webhook:GracePeriod</c> (TimeProvider
/// timer) against the then current snapshot; what still holds is logged, counted
/// (<c>egress_webhook_chain_rechecks_total{result}</c>, <c>egress_webhook_chain_incomplete_total{rule}</c>), written to the
/// audit log (webhook <c>recheck</c>, decision <c>incomplete</c>) and, in cluster mode, reported as an Event on the object.</summary>
/// <remarks>One pending re-check per object: a later admission of the same object replaces the earlier one (its own
/// findings are the current ones); at most <c>Webhook:MaxPendingRechecks</c> objects are pending, a re-check beyond it is
/// dropped (counted in <c>egress_webhook_chain_rechecks_dropped_total</c>, logged). The admitted object itself is kept
/// only with the state directory (which never holds it); in cluster mode the cache has it, so only the findings are
/// kept. The uid is kept capped as the audit line caps it. The decision is Core's
/// (<see cref="AdmissionHandler.Recheck"/>); this class only keeps time and does the I/O.</remarks>
internal sealed class IncompleteChainRecheck : IDisposable
{
    private readonly AdmissionHandler _handler;
    private readonly SnapshotStore _store;
    private readonly AuditLog _audit;
    private readonly ILogger<IncompleteChainRecheck> _logger;
    private readonly TimeProvider _time;
    private readonly IChainEventSink _events;
    private readonly bool _snapshotHasWrites;
    private readonly AdmissionSettings _settings;
    private readonly ConcurrentDictionary<ObjectRef, Pending> _pending = new();
    private readonly Counter _rechecks;
    private readonly Counter _incomplete;
    private readonly Counter _dropped;
    private readonly int _maxPending;
    private readonly CancellationTokenSource _stopping = new();

    public IncompleteChainRecheck(AdmissionHandler handler, SnapshotStore store, IOptions<WebhookOptions> options, AuditLog audit, WebhookMetrics metrics,
        ILogger<IncompleteChainRecheck> logger, TimeProvider time, IServiceProvider services)
    {
        _handler = handler;
        _store = store;
        _audit = audit;
        _logger = logger;
        _time = time;
        _settings = options.Value.ToSettings();
        _maxPending = options.Value.MaxPendingRechecks;
        _events = services.GetService<IChainEventSink>() ?? NoChainEvents.Instance;
        // the live-cluster cache holds what was written; the state directory never holds admitted objects
        _snapshotHasWrites = (services.GetService<ICacheHealth>() ?? NoCache.Instance).HoldsAdmittedWrites;
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        _rechecks = factory.CreateCounter("egress_webhook_chain_rechecks_total",
            "Grace-period re-checks of admitted findings that rested on a missing object, by result (complete, incomplete).", "result");
        _incomplete = factory.CreateCounter("egress_webhook_chain_incomplete_total",
            "Findings still resting on a missing object after the grace period, by rule.", "rule");
        _dropped = factory.CreateCounter("egress_webhook_chain_rechecks_dropped_total",
            "Re-checks not scheduled because Webhook:MaxPendingRechecks objects were pending already.");
    }

    /// <summary>Re-checks pending now (for tests and metrics).</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Pending re-checks that keep the admitted object (state directory only; for tests).</summary>
    internal int PendingWithObjectCount => _pending.Values.Count(p => p.Admitted is not null);

    /// <summary>Schedules the re-check of an admitted decision with awaited findings (not for dry runs: nothing was stored).</summary>
    public void Schedule(AdmissionRequest request, AdmissionDecision decision)
    {
        if (decision.Awaiting.Count == 0 || request.DryRun == true || _stopping.IsCancellationRequested)
        {
            return;
        }

        // the cluster cache holds what was written: the decoded object (up to the body limit) is needed only without it
        var admitted = _snapshotHasWrites ? null : decision.Admitted;
        var truncated = new List<string>(0);
        var uid = AuditFields.Cap(request.Uid ?? "", AuditFields.UidBytes, "uid", truncated)!;
        var operation = AuditFields.Cap(request.Operation, AuditFields.OperationBytes, "operation", truncated);
        foreach (var group in decision.Awaiting.GroupBy(f => f.Object))
        {
            // the count is read without a lock: concurrent admissions may overshoot the cap by at most their number
            if (_pending.Count >= _maxPending && !_pending.ContainsKey(group.Key))
            {
                _dropped.Inc();
                _logger.RecheckDropped(group.Key.ToString(), uid, _maxPending);
                continue;
            }

            var pending = new Pending(uid, operation, truncated, group.ToList(), admitted?.Ref == group.Key ? admitted : null);
            _pending.AddOrUpdate(group.Key, pending, (_, old) =>
            {
                old.Timer?.Dispose();
                return pending;
            });

            pending.Timer = _time.CreateTimer(static state => ((Fire)state!).Run(), new Fire(this, group.Key, pending), _settings.GracePeriod, Timeout.InfiniteTimeSpan);

            // a racing Schedule of the same object may have replaced this entry before its timer was set (and so could not
            // dispose it): then this timer is not the pending re-check's and goes; a timer that fires meanwhile finds its
            // entry gone and does nothing
            if (!_pending.TryGetValue(group.Key, out var current) || !ReferenceEquals(current, pending))
            {
                pending.Timer.Dispose();
            }
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var pending in _pending.Values)
        {
            pending.Timer?.Dispose();
        }

        _pending.Clear();
        _stopping.Dispose();
    }

    private async Task RecheckAsync(ObjectRef obj, Pending pending)
    {
        if (!_pending.TryRemove(new KeyValuePair<ObjectRef, Pending>(obj, pending)))
        {
            return;
        }

        pending.Timer?.Dispose();
        try
        {
            var snapshot = _store.Current.Snapshot;
            var admitted = pending.Admitted;
            var still = _handler.Recheck(snapshot, admitted, pending.Awaiting, _settings);
            if (still.Count == 0)
            {
                _rechecks.WithLabels("complete").Inc();
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    _logger.ChainCompleted(obj.ToString(), pending.Uid);
                }

                return;
            }

            _rechecks.WithLabels("incomplete").Inc();
            foreach (var f in still)
            {
                _incomplete.WithLabels(f.Rule).Inc();
            }

            var stored = Enum.TryParse<ResourceKind>(obj.Kind, out var kind) ? snapshot.Find(new ObjectKey(kind, obj.Namespace, obj.Name)) : null;
            var chain = new IncompleteChain(obj, stored?.Metadata.Uid ?? admitted?.Metadata.Uid, still);
            var rules = still.Select(f => f.Rule).Distinct().Order(StringComparer.Ordinal).ToArray();
            _logger.ChainIncomplete(obj.ToString(), pending.Uid, _settings.GracePeriod.TotalSeconds, chain.Message);
            if (_audit.Enabled)
            {
                var truncated = new List<string>(pending.Truncated);
                _audit.Write(new AuditRecord(_time.GetUtcNow(), "recheck", pending.Uid, null, null, pending.Operation,
                    AuditFields.Cap(obj.Kind, AuditFields.KindBytes, "kind", truncated),
                    obj.Namespace.Length == 0 ? null : AuditFields.Cap(obj.Namespace, AuditFields.NamespaceBytes, "namespace", truncated),
                    AuditFields.Cap(obj.Name, AuditFields.NameBytes, "name", truncated), false, true, "incomplete", rules, 0,
                    Truncated: truncated.Count == 0 ? null : truncated));
            }
            await _events.ReportAsync(chain, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.RecheckFailed(obj.ToString(), ex);
        }
    }

    private sealed class Pending(string uid, string? operation, IReadOnlyList<string> truncated, IReadOnlyList<Finding> awaiting, EgressObject? admitted)
    {
        /// <summary>Capped (<see cref="AuditFields.UidBytes"/>).</summary>
        public string Uid { get; } = uid;

        public string? Operation { get; } = operation;

        /// <summary>The request fields capped in <see cref="Uid"/> and <see cref="Operation"/>.</summary>
        public IReadOnlyList<string> Truncated { get; } = truncated;

        public IReadOnlyList<Finding> Awaiting { get; } = awaiting;

        public EgressObject? Admitted { get; } = admitted;

        public System.Threading.ITimer? Timer { get; set; }
    }

    private sealed record Fire(IncompleteChainRecheck Owner, ObjectRef Object, Pending Pending)
    {
        public void Run() => _ = Owner.RecheckAsync(Object, Pending);
    }
}

/// <summary>Cluster mode: the incomplete chain as a core/v1 Event (type Warning, reason
/// <see cref="IncompleteChain.Reason"/>) on the object, which <c>kubectl describe</c> and <c>kubectl events</c> show.</summary>
internal sealed class ClusterChainEvents(KubernetesApi api, TimeProvider time, ILogger<ClusterChainEvents> logger) : IChainEventSink
{
    public async Task ReportAsync(IncompleteChain chain, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var ns = chain.Object.Namespace.Length == 0 ? "default" : chain.Object.Namespace;
        var involved = new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = chain.Object.Kind is nameof(ResourceKind.Service) or "Namespace" ? "v1" : "networking.istio.io/v1",
            ["kind"] = chain.Object.Kind,
            ["namespace"] = chain.Object.Namespace,
            ["name"] = chain.Object.Name,
        };
        if (chain.Uid is { Length: > 0 } uid)
        {
            involved["uid"] = uid;
        }

        var message = chain.Message;
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["generateName"] = $"{chain.Object.Name}.", ["namespace"] = ns },
            ["involvedObject"] = involved,
            ["type"] = "Warning",
            ["reason"] = IncompleteChain.Reason,
            // the API server limits an Event's message to 1 KiB
            ["message"] = message.Length <= 1024 ? message : string.Concat(message.AsSpan(0, 1023), "…"),
            ["source"] = new System.Text.Json.Nodes.JsonObject { ["component"] = "egress-webhook" },
            ["reportingComponent"] = "egress-webhook",
            ["reportingInstance"] = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName,
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
            ["count"] = 1,
        };
        try
        {
            await api.CreateEventAsync(ns, body.ToJsonString(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException)
        {
            logger.EventWriteFailed(chain.Object.ToString(), ex.Message);
        }
    }
}
