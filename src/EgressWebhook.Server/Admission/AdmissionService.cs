using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Admission;

/// <summary>The shell around <see cref="AdmissionHandler"/>: the live cache's health, current snapshot and settings in,
/// then the fresh read on a denial that may rest on a lagging cache, then audit, metrics and logs. The only place
/// requests meet logs.</summary>
internal sealed class AdmissionService
{
    private readonly AdmissionHandler _handler;
    private readonly SnapshotStore _store;
    private readonly AuditLog _audit;
    private readonly WebhookMetrics _metrics;
    private readonly ILogger<AdmissionService> _logger;
    private readonly TimeProvider _time;
    private readonly IFreshReadSource? _fresh;
    private readonly ICacheHealth? _cache;

    public AdmissionService(AdmissionHandler handler, SnapshotStore store, IOptions<WebhookOptions> options, AuditLog audit,
        WebhookMetrics metrics, ILogger<AdmissionService> logger, TimeProvider time, IServiceProvider services)
    {
        _handler = handler;
        _store = store;
        _audit = audit;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _fresh = services.GetService<IFreshReadSource>();
        _cache = services.GetService<ICacheHealth>();
        Settings = options.Value.ToSettings();
        HealthPort = options.Value.HealthPort;
    }

    public AdmissionSettings Settings { get; }

    /// <summary>The plain-HTTP port that serves health and metrics only (0: none).</summary>
    public int HealthPort { get; }

    /// <summary>Decides one admission and records it (exactly one audit line).</summary>
    /// <param name="endpoint"><c>validate</c> or <c>mutate</c>.</param>
    /// <param name="request">The parsed request.</param>
    /// <param name="started">Timestamp (<see cref="TimeProvider.GetTimestamp"/>) when the request arrived.</param>
    /// <param name="deadline">Cancelled when the API server's timeout is about to pass.</param>
    public async ValueTask<AdmissionResponse> DecideAsync(string endpoint, AdmissionRequest request, long started, CancellationToken deadline)
    {
        const string noSnapshot = "no snapshot of the cluster's egress objects is loaded yet";
        var mutate = endpoint == AdmissionEndpointNames.Mutate;
        AdmissionDecision decision;
        try
        {
            var current = _store.Current;
            if (CacheProblem() is { } problem)
            {
                decision = WhileNotSynced(mutate, request, current.Snapshot, problem, deadline);
            }
            else if (!_store.IsReady)
            {
                decision = mutate ? AdmissionHandler.MutationUnavailable(request, noSnapshot) : AdmissionHandler.Unavailable(request, noSnapshot, Settings);
            }
            else if (mutate)
            {
                decision = _handler.Mutate(request, current.Snapshot, Settings, deadline);
            }
            else
            {
                decision = _handler.Validate(request, current.Snapshot, Settings, deadline);
                if (_fresh is not null && !decision.Allowed && decision.Findings.Any(f => f.Severity == Severity.Error && FreshReads.KindsFor(f.Rule).Count > 0))
                {
                    decision = await ConfirmAsync(_fresh, request, current.Snapshot, decision, deadline).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            _logger.AdmissionFailed(request.Uid ?? "", mutate ? "Allow (a mutation is never refused)" : Settings.FailureMode.ToString(), ex);
            var reason = $"internal error ({ex.GetType().Name})";
            decision = mutate ? AdmissionHandler.MutationUnavailable(request, reason) : AdmissionHandler.Unavailable(request, reason, Settings);
        }

        var elapsed = _time.GetElapsedTime(started);
        if (deadline.IsCancellationRequested)
        {
            _logger.DeadlinePassed(request.Uid ?? "", elapsed.TotalMilliseconds);
        }

        Record(endpoint, request, decision, elapsed);
        return decision.Response;
    }

    /// <summary>Why the live-cluster cache cannot be trusted now (not synced, or stale), or null; always null with the
    /// State source, which registers no <see cref="ICacheHealth"/>.</summary>
    private string? CacheProblem()
    {
        if (_cache is not { } cache || (cache.IsSynced && !cache.IsStale))
        {
            return null;
        }

        // Describe re-reads the state; if the cache recovered in between, the request is refused or warned once more
        // with a generic line rather than checked against a state that was just found untrustworthy
        return cache.Describe() ?? "the egress webhook cache is not synced; retry shortly";
    }

    /// <summary><c>Webhook:Cluster:WhenNotSynced</c> decides, except for requests that do not depend on the cluster's
    /// state: kinds and operations the webhook does not read, exempt namespaces and undecodable objects are answered
    /// as usual. /mutate is never refused for it: allowed without a patch, with the reason as a warning.</summary>
    private AdmissionDecision WhileNotSynced(bool mutate, AdmissionRequest request, Core.Snapshot.EgressSnapshot snapshot, string problem, CancellationToken deadline)
    {
        var plain = mutate ? _handler.Mutate(request, snapshot, Settings, deadline) : _handler.Validate(request, snapshot, Settings, deadline);
        if (plain.Outcome is AdmissionOutcome.Skipped or AdmissionOutcome.Exempt or AdmissionOutcome.Invalid)
        {
            return plain;
        }

        // a DELETE only ever gets EGW114, a warning unless the policy makes it an error: refusing deletes for a cache
        // problem would be stricter than the check itself, so they are refused only when the check could refuse them
        var deny = _cache!.WhenNotSynced == NotSyncedBehavior.Deny &&
                   (request.Operation != "DELETE" || Settings.Policy.Apply(RuleIds.DeleteLeavesDanglingReference, Severity.Warning) == Severity.Error);
        return mutate
            ? AdmissionHandler.MutationUnavailable(request, problem, AdmissionOutcome.Unsynced)
            : AdmissionHandler.NotSynced(request, problem, deny);
    }

    private async ValueTask<AdmissionDecision> ConfirmAsync(IFreshReadSource fresh, AdmissionRequest request, Core.Snapshot.EgressSnapshot snapshot,
        AdmissionDecision decision, CancellationToken deadline)
    {
        try
        {
            var denying = decision.Findings.Where(f => f.Severity == Severity.Error).ToList();
            var refreshed = await fresh.RefreshAsync(snapshot, denying, deadline).ConfigureAwait(false);
            if (refreshed is null)
            {
                return decision;
            }

            var again = _handler.Validate(request, refreshed, Settings, deadline);
            _logger.FreshReadRedecided(request.Uid ?? "", decision.RuleIds, again.Allowed);
            return again;
        }
        catch (Exception ex)
        {
            _logger.FreshReadFailed(request.Uid ?? "", ex);
            return decision;
        }
    }

    private void Record(string endpoint, AdmissionRequest request, AdmissionDecision decision, TimeSpan elapsed)
    {
        var kind = ObjectDecoder.KindOf(request.Kind?.ApiVersion ?? "", request.Kind?.Kind ?? "")?.ToString() ?? "other";
        var operation = request.Operation is "CREATE" or "UPDATE" or "DELETE" or "CONNECT" ? request.Operation : "other";
        _metrics.Decided(endpoint, kind, operation, decision, elapsed.TotalSeconds);
        _audit.Write(new AuditRecord(
            _time.GetUtcNow(), endpoint, request.Uid ?? "", request.UserInfo?.Username, request.UserInfo?.Groups,
            request.Operation, request.Kind?.Kind, request.Namespace, request.Name, request.DryRun == true,
            decision.Allowed, decision.OutcomeName, decision.RuleIds, Math.Round(elapsed.TotalMilliseconds, 3),
            decision.PatchOperations.Count == 0 ? null : decision.PatchOperations.Count));

        // Debug only: every decision is in the audit log already, and this is the hot path
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.AdmissionDecided(request.Uid ?? "", endpoint, request.Operation, request.Kind?.Kind, request.Namespace, request.Name,
                decision.OutcomeName, decision.RuleIds, elapsed.TotalMilliseconds);
        }
    }
}
