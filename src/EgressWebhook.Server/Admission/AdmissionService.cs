using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Admission;

/// <summary>The shell around <see cref="AdmissionHandler"/>: the live cache's health, current snapshot and settings in,
/// then direct reads for a decision that rests on objects the cache may not have caught up with yet (read your
/// writes), then audit, metrics and logs. The only place requests meet logs.</summary>
internal sealed class AdmissionService
{
    private readonly AdmissionHandler _handler;
    private readonly SnapshotStore _store;
    private readonly AuditLog _audit;
    private readonly WebhookMetrics _metrics;
    private readonly ILogger<AdmissionService> _logger;
    private readonly TimeProvider _time;
    private readonly IFreshReadSource _fresh;
    private readonly ICacheHealth _cache;
    private readonly IncompleteChainRecheck? _recheck;
    private readonly string? _generatorUser;

    public AdmissionService(AdmissionHandler handler, SnapshotStore store, IOptions<WebhookOptions> options, AuditLog audit,
        WebhookMetrics metrics, ILogger<AdmissionService> logger, TimeProvider time, IServiceProvider services)
    {
        _handler = handler;
        _store = store;
        _audit = audit;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        // null objects (NoFreshReads, NoCache) unless a source registered its own
        _fresh = services.GetService<IFreshReadSource>() ?? NoFreshReads.Instance;
        _cache = services.GetService<ICacheHealth>() ?? NoCache.Instance;
        _recheck = services.GetService<IncompleteChainRecheck>();
        _generatorUser = services.GetService<IOptions<GeneratorOptions>>()?.Value.EffectiveServiceAccount;
        Settings = options.Value.ToSettings();
    }

    public AdmissionSettings Settings { get; }

    /// <summary>Decides one admission and records it (exactly one audit line).</summary>
    /// <param name="endpoint"><c>validate</c> or <c>mutate</c>.</param>
    /// <param name="request">The parsed request.</param>
    /// <param name="started">Timestamp (<see cref="TimeProvider.GetTimestamp"/>) when the request arrived.</param>
    /// <param name="deadline">Cancelled when the API server's timeout is about to pass.</param>
    public async ValueTask<AdmissionResponse> DecideAsync(string endpoint, AdmissionRequest request, long started, CancellationToken deadline)
    {
        const string noSnapshot = "no snapshot of the cluster's egress objects is loaded yet";
        var mutate = endpoint == AdmissionEndpointNames.Mutate;
        // operation, kind and exemption are worked out once here, for the decision, the confirming reads and the audit line
        var subject = AdmissionSubject.Parse(request, Settings);
        var pipeline = _handler.Pipeline;
        AdmissionDecision decision;
        try
        {
            var current = _store.Current;
            if (!mutate && GeneratorWriteGuard.Check(request, _generatorUser, current.Snapshot, Settings.Mutation) is { } refused)
            {
                // the webhook's own ServiceAccount writing something it did not generate: refused whatever the policy
                decision = refused;
            }
            else if (CacheProblem() is { } problem)
            {
                decision = pipeline.WhileNotSynced(subject, mutate, current.Snapshot, problem, _cache.WhenNotSynced == NotSyncedBehavior.Deny, Settings);
            }
            else if (!_store.IsReady)
            {
                decision = mutate ? AdmissionHandler.MutationUnavailable(request, noSnapshot) : AdmissionHandler.Unavailable(request, noSnapshot, Settings);
            }
            else if (mutate)
            {
                var snapshot = !_fresh.Reads ? current.Snapshot : await WithNamespaceAsync(_fresh, subject, current.Snapshot, deadline).ConfigureAwait(false);
                decision = pipeline.Mutate(subject, snapshot, Settings, deadline);
            }
            else
            {
                decision = pipeline.Validate(subject, current.Snapshot, Settings, confirm: _fresh.Reads, deadline);
                if (_fresh.Reads && (decision.Confirm.Count > 0 || decision.ConfirmObjects.Count > 0))
                {
                    decision = await ConfirmAsync(_fresh, subject, current.Snapshot, decision, deadline).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            _logger.AdmissionFailed(AuditFields.LogUid(request.Uid), mutate ? "Allow (a mutation is never refused)" : Settings.FailureMode.ToString(), ex);
            var reason = $"internal error ({ex.GetType().Name})";
            decision = mutate ? AdmissionHandler.MutationUnavailable(request, reason) : AdmissionHandler.Unavailable(request, reason, Settings);
        }

        var elapsed = _time.GetElapsedTime(started);
        if (deadline.IsCancellationRequested)
        {
            _logger.DeadlinePassed(AuditFields.LogUid(request.Uid), elapsed.TotalMilliseconds);
        }

        Record(endpoint, subject, decision, elapsed);
        _recheck?.Schedule(request, decision);
        return decision.Response;
    }

    /// <summary>Answers, without deciding it, a request that could not be decided in time (<see cref="LargeReviewGate"/>):
    /// <see cref="AdmissionPipeline.Undecided"/>; recorded like any other (metrics, one audit line).</summary>
    public AdmissionResponse Undecided(string endpoint, AdmissionRequest request, long started, string reason)
    {
        var subject = AdmissionSubject.Parse(request, Settings);
        var decision = AdmissionPipeline.Undecided(subject, endpoint == AdmissionEndpointNames.Mutate, reason, Settings);
        Record(endpoint, subject, decision, _time.GetElapsedTime(started));
        return decision.Response;
    }

    /// <summary>Why the live-cluster cache cannot be trusted now (not synced, or stale), or null; always null with the
    /// State source (<see cref="NoCache"/>).</summary>
    private string? CacheProblem()
    {
        var cache = _cache;
        if (cache.IsSynced && !cache.IsStale)
        {
            return null;
        }

        // Describe re-reads the state; if the cache recovered in between, the request is refused or warned once more
        // with a generic line rather than checked against a state that was just found untrustworthy
        return cache.Describe() ?? "the egress webhook cache is not synced; retry shortly";
    }

    /// <summary>Read your writes: when the decision asks (<see cref="AdmissionDecision.ConfirmPlan"/>: the objects its
    /// findings name or used, and the kinds where they rest on "no object of this kind matches"), those are read directly
    /// and the request is decided again on what the API server holds now. Objects are got by name; a kind is first
    /// read (or counted, <see cref="FreshReadMode.IfCountChanged"/>) in the namespace of the object under admission, and
    /// in all namespaces only if the new decision still asks for it. A new decision may ask for further objects or
    /// kinds (a Gateway just found makes a mesh leg need its gateway leg): they are read in turn, each object once, each
    /// kind at most once per scope. Bounded by the deadline; on timeout or error the decision stands on the cached view.</summary>
    private async ValueTask<AdmissionDecision> ConfirmAsync(IFreshReadSource fresh, AdmissionSubject subject, EgressSnapshot snapshot,
        AdmissionDecision decision, CancellationToken deadline)
    {
        var doneKinds = new Dictionary<ResourceKind, FreshReadMode>();
        var inNamespace = new HashSet<ResourceKind>();
        var doneObjects = new HashSet<ObjectKey>();
        var result = decision;
        try
        {
            while (true)
            {
                var objects = result.ConfirmObjects.Where(doneObjects.Add).ToList();
                var kinds = result.Confirm
                    .Where(p => !doneKinds.TryGetValue(p.Key, out var did) || did < p.Value)
                    .ToDictionary(p => p.Key, p => p.Value);
                if (objects.Count == 0 && kinds.Count == 0)
                {
                    break;
                }

                // a kind is read (or counted) in the request's namespace first: where an object written in the same
                // apply usually is. Only a decision that still rests on the kind reads it everywhere (the next round),
                // so a namespace that answers the question costs no cluster-wide list
                var ns = result.ConfirmNamespace;
                var first = ns is null ? [] : kinds.Keys.Where(k => !inNamespace.Contains(k)).ToList();
                if (first.Count > 0)
                {
                    inNamespace.UnionWith(first);
                    kinds = kinds.Where(p => first.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
                }
                else
                {
                    ns = null;
                    foreach (var (kind, mode) in kinds)
                    {
                        doneKinds[kind] = mode;
                    }
                }

                if (await fresh.ConfirmAsync(snapshot, new FreshReadPlan(kinds, objects, ns), deadline).ConfigureAwait(false) is not { } refreshed)
                {
                    continue;
                }

                snapshot = refreshed;
                result = _handler.Pipeline.Validate(subject, snapshot, Settings, confirm: true, deadline);
            }
        }
        catch (Exception ex)
        {
            _logger.FreshReadFailed(AuditFields.LogUid(subject.Request.Uid), ex);
        }

        if (!ReferenceEquals(result, decision) && _logger.IsEnabled(LogLevel.Information))
        {
            _logger.FreshReadRedecided(AuditFields.LogUid(subject.Request.Uid), decision.RuleIds, result.Allowed);
        }

        return result;
    }

    /// <summary>The Namespace a mutation asks to confirm (<see cref="AdmissionPipeline.NamespaceToConfirm"/>), read directly.</summary>
    private static async ValueTask<EgressSnapshot> WithNamespaceAsync(IFreshReadSource fresh, AdmissionSubject subject, EgressSnapshot snapshot, CancellationToken deadline)
    {
        if (AdmissionPipeline.NamespaceToConfirm(subject, snapshot) is not { } name)
        {
            return snapshot;
        }

        var ns = await fresh.GetAsync(ResourceKind.Namespace, "", name, deadline).ConfigureAwait(false);
        return ns is null ? snapshot : snapshot.Apply([SnapshotChange.Put(ns)]);
    }

    private void Record(string endpoint, AdmissionSubject subject, AdmissionDecision decision, TimeSpan elapsed)
    {
        var request = subject.Request;
        _metrics.Decided(endpoint, subject.KindLabel, subject.OperationLabel, decision, elapsed.TotalSeconds);
        if (_audit.Enabled)
        {
            // what the caller sent is capped: a line stays within a few KB whatever the request holds
            var truncated = new List<string>(0);
            // who opened what (docs/policy.md): the external hosts the change adds or removes, and any break-glass
            var hostsAdded = AuditFields.CapHosts(decision.HostsAdded, "hostsAdded", truncated);
            var hostsRemoved = AuditFields.CapHosts(decision.HostsRemoved, "hostsRemoved", truncated);
            _audit.Write(new AuditRecord(
                _time.GetUtcNow(), endpoint, AuditFields.Cap(request.Uid ?? "", AuditFields.UidBytes, "uid", truncated)!,
                AuditFields.Cap(request.UserInfo?.Username, AuditFields.UserBytes, "user", truncated),
                AuditFields.CapGroups(request.UserInfo?.Groups, truncated),
                AuditFields.Cap(request.Operation, AuditFields.OperationBytes, "operation", truncated),
                AuditFields.Cap(request.Kind?.Kind, AuditFields.KindBytes, "kind", truncated),
                AuditFields.Cap(request.Namespace, AuditFields.NamespaceBytes, "namespace", truncated),
                AuditFields.Cap(request.Name, AuditFields.NameBytes, "name", truncated), request.DryRun == true,
                decision.Allowed, decision.OutcomeName, decision.RuleIds, Math.Round(elapsed.TotalMilliseconds, 3),
                decision.PatchOperations.Count == 0 ? null : decision.PatchOperations.Count,
                truncated.Count == 0 ? null : truncated)
            {
                HostsAdded = hostsAdded,
                HostsRemoved = hostsRemoved,
                Recorded = decision.Recorded.Count == 0 ? null : [.. decision.Recorded.Select(f => f.Rule).Distinct().Order(StringComparer.Ordinal)],
                Exceptions = AuditFields.CapList(decision.Exceptions, AuditFields.ExceptionsBytes, "exceptions", truncated),
            });
        }

        // Debug only: every decision is in the audit log already, and this is the hot path
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.AdmissionDecided(AuditFields.LogUid(request.Uid), endpoint, request.Operation, request.Kind?.Kind, request.Namespace, request.Name,
                decision.OutcomeName, decision.RuleIds, elapsed.TotalMilliseconds);
        }
    }
}
