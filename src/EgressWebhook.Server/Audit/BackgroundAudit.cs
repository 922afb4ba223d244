using System.Net;
using System.Text.Json;
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

/// <summary>Checks the whole current snapshot every <c>Webhook:Audit:Interval</c> and writes the result as
/// <c>wgpolicyk8s.io/v1alpha2</c> PolicyReports (one per namespace with findings) and a ClusterPolicyReport, by
/// server-side apply; reports of this project for scopes that became clean are deleted.</summary>
/// <remarks>No leader election: the reports are a pure function of the snapshot (<see cref="PolicyReports.Build"/>
/// has no timestamps), every replica applies the same bytes as the same field manager, so an apply by a second
/// replica is a no-op on the server and replicas whose caches differ for a moment converge once the caches do.
/// When the CRDs are absent (404 from discovery or a write) it logs once and keeps checking.</remarks>
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
    private readonly TimeProvider _time;
    private readonly ILogger<BackgroundAudit> _logger;
    private bool _crdMissingLogged;

    public BackgroundAudit(KubernetesApi api, SnapshotStore store, IOptions<BackgroundAuditOptions> options, IOptions<WebhookOptions> webhook,
        TimeProvider time, ILogger<BackgroundAudit> logger)
    {
        _api = api;
        _store = store;
        _options = options.Value;
        _settings = webhook.Value.ToSettings().Policy;
        _time = time;
        _logger = logger;
    }

    /// <summary>The last completed pass (null before the first); tests wait on it.</summary>
    public AuditPass? LastPass { get; private set; }

    /// <summary>Completed passes.</summary>
    public int Passes { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _options.Interval ?? throw new InvalidOperationException("Webhook:Audit:Interval is not set");
        try
        {
            await WaitReadyAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    LastPass = await RunOnceAsync(stoppingToken);
                    Passes++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.AuditPassFailed(ex);
                }

                await Task.Delay(interval, _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass: check the current snapshot, apply its reports, delete this project's reports of clean scopes.</summary>
    public async Task<AuditPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var snapshot = _store.Current.Snapshot;
        var report = EgressEngine.Default.CheckAll(snapshot, _settings);
        var reports = PolicyReports.Build(report, snapshot.Objects, _options.MaxResults);

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
