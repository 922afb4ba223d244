using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Leadership;
using Prometheus;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Reports;
using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Audit;

/// <summary>What one audit pass did.</summary>
/// <param name="Findings">Findings of the whole-snapshot check.</param>
/// <param name="Applied">Reports sent as server-side applies (an apply of unchanged content changes nothing on the server).</param>
/// <param name="Deleted">Reports of this project for scopes without findings that were deleted.</param>
/// <param name="Failed">Writes the API server refused.</param>
/// <param name="CrdMissing">The PolicyReport CRDs are not installed: nothing was written.</param>
internal sealed record AuditPass(int Findings, int Applied, int Deleted, int Failed, bool CrdMissing);

/// <summary>Checks the whole current snapshot and writes the result as <c>wgpolicyk8s.io/v1alpha2</c> PolicyReports (one
/// per namespace with findings) and a ClusterPolicyReport, by server-side apply; reports of this project for scopes that
/// became clean are deleted. Runs on one replica at a time: the holder of the Lease <c>Webhook:Audit:LeaseName</c>
/// (<see cref="LeaderLease"/>). A pass runs when this replica starts leading, every <c>Webhook:Audit:Interval</c>, and
/// once the snapshot changed and then stayed unchanged for <c>Webhook:Audit:Settle</c> (at most one such pass per settle
/// time: under steady churn the interval's pass still runs).</summary>
/// <remarks>Each pass also sets the gauge <c>egress_webhook_audit_findings{rule,severity,namespace}</c> (series of
/// findings that went away are removed) and reports an incompleteness (<see cref="Finding.Awaits"/>) seen in passes
/// spanning at least <c>Webhook:GracePeriod</c> as one Kubernetes Event per object and rule
/// (<see cref="IChainEventSink"/>, reason <see cref="IncompleteChain.Reason"/>). The reports are a pure function of the
/// snapshot (<see cref="PolicyReports.Build"/> has no timestamps), so an unchanged pass writes nothing. When the CRDs
/// are absent (404 from discovery or a write) it logs once and keeps checking (gauges and Events go on).</remarks>
internal sealed class BackgroundAudit : BackgroundService
{
    private static readonly ClusterResource[] Resources =
    [
        // Kind is the model kind of objects the cache decodes; reports are only written and listed, never decoded
        new(default, PolicyReport.ApiVersion, "PolicyReport", "policyreports", null, true),
        new(default, PolicyReport.ApiVersion, "ClusterPolicyReport", "clusterpolicyreports", null, false),
    ];

    private readonly KubernetesApi _api;
    private readonly SnapshotStore _store;
    private readonly BackgroundAuditOptions _options;
    private readonly RuleSettings _settings;
    private readonly TimeSpan _gracePeriod;
    private readonly TimeProvider _time;
    private readonly ILogger<BackgroundAudit> _logger;
    private readonly LeaderLease _lease;
    private readonly Gauge _findings;
    private readonly IChainEventSink _events;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _gate = new();
    private readonly HashSet<(string Rule, string Severity, string Namespace)> _series = [];
    private readonly Dictionary<(ObjectRef Object, string Rule), Seen> _incomplete = [];
    private DateTimeOffset _lastChange;
    private DateTimeOffset? _waitingUntil;
    private bool _newTerm;
    private bool _crdMissingLogged;

    public BackgroundAudit(KubernetesApi api, k8s.Kubernetes client, SnapshotStore store, IOptions<BackgroundAuditOptions> options, IOptions<WebhookOptions> webhook,
        TimeProvider time, ILogger<BackgroundAudit> logger, CollectorRegistry registry, IChainEventSink events)
    {
        _api = api;
        _store = store;
        _options = options.Value;
        var settings = webhook.Value.ToSettings();
        _settings = settings.Policy;
        _gracePeriod = settings.GracePeriod;
        _time = time;
        _logger = logger;
        _events = events;
        _lease = new LeaderLease(client, "Background audit", _options.LeaseSettings(), logger, time);
        _lease.StartedLeading += OnStartedLeading;
        _lease.StoppedLeading += OnStoppedLeading;
        _findings = Prometheus.Metrics.WithCustomRegistry(registry).CreateGauge("egress_webhook_audit_findings",
            "Findings of the last background audit pass, by rule, severity (error, warning) and namespace (empty: cluster-scoped objects).",
            "rule", "severity", "namespace");
    }

    /// <summary>The last completed pass (null before the first); tests wait on it.</summary>
    public AuditPass? LastPass { get; private set; }

    /// <summary>Completed passes.</summary>
    public int Passes { get; private set; }

    /// <summary>This replica's holder identity in the Lease.</summary>
    public string Identity => _lease.Settings.Identity;

    /// <summary>Whether this replica holds the audit's Lease now (and so runs the passes).</summary>
    public bool IsLeader => _lease.IsLeader;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _store.Published += OnPublished;
        try
        {
            await Task.WhenAll(
                Task.Run(() => _lease.RunAsync(stoppingToken), CancellationToken.None),
                Task.Run(() => AuditLoopAsync(stoppingToken), CancellationToken.None));
        }
        finally
        {
            _store.Published -= OnPublished;
        }
    }

    /// <summary>Until when the loop waits with nothing to do (<see cref="DateTimeOffset.MaxValue"/>: until a signal);
    /// null while it works or has a signal to read. Tests advance the fake clock only when it waits.</summary>
    internal DateTimeOffset? WaitingUntil
    {
        get
        {
            lock (_gate)
            {
                return _waitingUntil;
            }
        }
    }

    private void OnPublished(SnapshotState state)
    {
        lock (_gate)
        {
            _lastChange = state.PublishedAt;
            Signal();
        }
    }

    private void OnStartedLeading()
    {
        lock (_gate)
        {
            _newTerm = true;
            Signal();
        }
    }

    /// <summary>Wakes the loop; call under <see cref="_gate"/>.</summary>
    private void Signal()
    {
        _signal.Writer.TryWrite(true);
        _waitingUntil = null;
    }

    /// <summary>A follower exports no findings (the leader's gauges are the cluster's) and forgets what it saw: a later
    /// term starts the grace period anew.</summary>
    private void OnStoppedLeading()
    {
        lock (_gate)
        {
            foreach (var (rule, severity, ns) in _series)
            {
                _findings.RemoveLabelled(rule, severity, ns);
            }

            _series.Clear();
            _incomplete.Clear();
        }
    }

    private async Task AuditLoopAsync(CancellationToken stoppingToken)
    {
        DateTimeOffset? lastPassAt = null;
        EgressSnapshot? audited = null;
        try
        {
            await WaitReadyAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                if (_lease.Term is not { } term)
                {
                    await WaitAsync(null, stoppingToken);
                    continue;
                }

                DateTimeOffset lastChange;
                lock (_gate)
                {
                    if (_newTerm)
                    {
                        _newTerm = false;
                        lastPassAt = null;
                    }

                    lastChange = _lastChange;
                }

                var now = _time.GetUtcNow();
                var due = NextPass(lastPassAt, lastChange, !ReferenceEquals(audited, _store.Current.Snapshot));
                if (due > now)
                {
                    await WaitAsync(due - now, stoppingToken);
                    continue;
                }

                audited = _store.Current.Snapshot;
                lastPassAt = now;
                using var pass = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, term.Token);
                try
                {
                    LastPass = await RunOnceAsync(pass.Token);
                    Passes++;
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // the Lease was lost during the pass
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.AuditPassFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>When the next pass is due: at once in a new term; else the interval after the last pass, or earlier when
    /// the snapshot changed since that pass: a settle time after the last change, and not before a settle time after
    /// the last pass (so passes are at least a settle time apart, and at most an interval).</summary>
    internal DateTimeOffset NextPass(DateTimeOffset? lastPassAt, DateTimeOffset lastChange, bool changed)
    {
        if (lastPassAt is not { } last)
        {
            return DateTimeOffset.MinValue;
        }

        var due = last + _options.EffectiveInterval;
        if (changed)
        {
            var settle = _options.EffectiveSettle;
            var settled = (lastChange > last ? lastChange : last) + settle;
            due = settled < due ? settled : due;
        }

        return due;
    }

    /// <summary>Waits for a signal (a publish, a new term) or <paramref name="delay"/> on the clock.</summary>
    private async Task WaitAsync(TimeSpan? delay, CancellationToken stoppingToken)
    {
        using var timeout = delay is { } d ? new CancellationTokenSource(d, _time) : new CancellationTokenSource();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        // cleared on the thread that fires the timer (a fake clock's Advance), so a waiter sees the loop busy at once
        using var fired = timeout.Token.UnsafeRegister(static state =>
        {
            var self = (BackgroundAudit)state!;
            lock (self._gate)
            {
                self._waitingUntil = null;
            }
        }, this);
        lock (_gate)
        {
            if (!_signal.Reader.TryPeek(out _) && !timeout.IsCancellationRequested)
            {
                _waitingUntil = delay is { } until ? _time.GetUtcNow() + until : DateTimeOffset.MaxValue;
            }
        }

        try
        {
            await _signal.Reader.WaitToReadAsync(wait.Token);
            _signal.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_gate)
            {
                _waitingUntil = null;
            }
        }
    }

    /// <summary>One pass: check the current snapshot, apply its reports, delete this project's reports of clean scopes.</summary>
    public async Task<AuditPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var snapshot = _store.Current.Snapshot;
        var report = EgressEngine.Default.CheckAll(snapshot, _settings);
        var reports = PolicyReports.Build(report, snapshot.Objects, _options.MaxResults);
        SetGauges(report.Findings);
        await ReportPersistentIncompletenessAsync(report.Findings, snapshot, cancellationToken);

        var served = await _api.ServedResourcesAsync(PolicyReport.Group, PolicyReport.Version, cancellationToken);
        if (!Resources.All(r => served.Contains(r.Plural)))
        {
            return CrdMissing(report.Findings.Count);
        }

        int applied = 0, deleted = 0, failed = 0;
        foreach (var r in reports)
        {
            var resource = Resources.Single(x => x.Plural == r.Plural);
            try
            {
                await _api.ApplyAsync(resource, r.Namespace ?? "", PolicyReport.ReportName, r.ToJson().ToJsonString(), BackgroundAuditOptions.FieldManager, cancellationToken);
                applied++;
            }
            catch (KubernetesApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
            {
                // the CRDs went away between discovery and the write
                return CrdMissing(report.Findings.Count);
            }
            catch (KubernetesApiException ex)
            {
                failed++;
                _logger.ReportWriteFailed(r.Kind, r.Namespace ?? "", PolicyReport.ReportName, ex.Message);
            }
        }

        var wanted = reports.Select(r => (r.Plural, r.Namespace ?? "")).ToHashSet();
        foreach (var resource in Resources)
        {
            var stale = new List<(string Namespace, string? Uid, string? ResourceVersion)>();
            await _api.ListAsync(resource, 500, item =>
            {
                if (item.TryGetProperty("metadata", out var meta) && KubernetesApi.GetString(meta, "name") == PolicyReport.ReportName &&
                    meta.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Object &&
                    KubernetesApi.GetString(labels, ManagedBy.Label) == ManagedBy.Value)
                {
                    var ns = resource.Namespaced ? KubernetesApi.GetString(meta, "namespace") ?? "" : "";
                    if (!wanted.Contains((resource.Plural, ns)))
                    {
                        stale.Add((ns, KubernetesApi.GetString(meta, "uid"), KubernetesApi.GetString(meta, "resourceVersion")));
                    }
                }
            }, cancellationToken);

            foreach (var (ns, uid, rv) in stale)
            {
                try
                {
                    // preconditions: a report rewritten since the list (by another replica) is left alone
                    deleted += await _api.DeleteAsync(resource, ns, PolicyReport.ReportName, uid, rv, cancellationToken) ? 1 : 0;
                }
                catch (KubernetesApiException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
                {
                }
                catch (KubernetesApiException ex)
                {
                    failed++;
                    _logger.ReportWriteFailed(resource.KindName, ns, PolicyReport.ReportName, ex.Message);
                }
            }
        }

        _crdMissingLogged = false;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.AuditPassed(report.Findings.Count, applied, deleted, failed);
        }

        return new AuditPass(report.Findings.Count, applied, deleted, failed, false);
    }

    /// <summary>The gauge holds the counts of this pass: series of this pass set, series of the last pass that have no
    /// finding now removed (a removed series disappears from /metrics instead of staying at a stale value).</summary>
    private void SetGauges(IReadOnlyList<Finding> findings)
    {
        var counts = findings.GroupBy(f => (f.Rule, Severity: f.Severity == Severity.Error ? "error" : "warning", f.Object.Namespace))
            .ToDictionary(g => g.Key, g => g.Count());
        lock (_gate)
        {
            foreach (var stale in _series.Where(s => !counts.ContainsKey(s)).ToList())
            {
                _findings.RemoveLabelled(stale.Rule, stale.Severity, stale.Namespace);
                _series.Remove(stale);
            }

            foreach (var (key, count) in counts)
            {
                _findings.WithLabels(key.Rule, key.Severity, key.Namespace).Set(count);
                _series.Add(key);
            }
        }
    }

    /// <summary>Incompleteness still present after the grace period: a finding with <see cref="Finding.Awaits"/> first seen
    /// in a pass and seen again in a pass at least <c>Webhook:GracePeriod</c> later is reported once as an Event on its
    /// object (one Event per object for the findings that became due together). Once reported it is not again while it
    /// holds; a finding that went away and came back starts anew.</summary>
    private async Task ReportPersistentIncompletenessAsync(IReadOnlyList<Finding> findings, EgressSnapshot snapshot, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var due = new List<Finding>();
        lock (_gate)
        {
            var current = new HashSet<(ObjectRef, string)>();
            foreach (var f in findings.Where(f => f.Awaits is not null))
            {
                var key = (f.Object, f.Rule);
                if (!current.Add(key))
                {
                    continue;
                }

                if (!_incomplete.TryGetValue(key, out var seen))
                {
                    _incomplete[key] = new Seen(now);
                }
                else if (!seen.Reported && now - seen.Since >= _gracePeriod)
                {
                    seen.Reported = true;
                    due.Add(f);
                }
            }

            foreach (var gone in _incomplete.Keys.Where(k => !current.Contains(k)).ToList())
            {
                _incomplete.Remove(gone);
            }
        }

        foreach (var group in due.GroupBy(f => f.Object))
        {
            var stored = Enum.TryParse<ResourceKind>(group.Key.Kind, out var kind) ? snapshot.Find(new ObjectKey(kind, group.Key.Namespace, group.Key.Name)) : null;
            var chain = new IncompleteChain(group.Key, stored?.Metadata.Uid, group.ToList());
            _logger.IncompletenessPersists(group.Key.ToString(), _gracePeriod.TotalSeconds, chain.Message);
            await _events.ReportAsync(chain, cancellationToken);
        }
    }

    private sealed class Seen(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public bool Reported { get; set; }
    }

    private AuditPass CrdMissing(int findings)
    {
        if (!_crdMissingLogged)
        {
            _crdMissingLogged = true;
            _logger.PolicyReportCrdMissing();
        }

        return new AuditPass(findings, 0, 0, 0, true);
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnPublished(SnapshotState _) => ready.TrySetResult();
        _store.Published += OnPublished;
        try
        {
            if (!_store.IsReady)
            {
                await ready.Task.WaitAsync(cancellationToken);
            }
        }
        finally
        {
            _store.Published -= OnPublished;
        }
    }
}
