using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.Guardrails;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Admission;

/// <summary>How much a direct read of a kind must do to confirm a decision.</summary>
public enum FreshReadMode
{
    /// <summary>Count the kind's objects (a list of one item) and read them all only when the count differs from the
    /// cache's: enough to see objects created or deleted since the cache was published, not changes to existing ones.</summary>
    IfCountChanged,

    /// <summary>Read every object of the kind.</summary>
    Always,
}

/// <summary>Decides everything about an admission request, purely: the operation, kind and exemption parsed once
/// (<see cref="AdmissionSubject"/>) and shared by validate and mutate, what is answered while the live cache cannot be
/// trusted (without running a rule), EGW114's severity, incompleteness admitted as warnings unless strict, and which
/// kinds the decision must confirm by a direct read (<see cref="AdmissionDecision.Confirm"/>, from the rules'
/// <see cref="IEgressRule.RestsOnMissing"/>). The shell reads the snapshot, does the reads the decision asks for,
/// decides again and records; it decides nothing itself.</summary>
public sealed class AdmissionPipeline
{
    private static readonly IReadOnlyDictionary<ResourceKind, FreshReadMode> NoReads = new Dictionary<ResourceKind, FreshReadMode>();

    private readonly EgressEngine _engine;
    private readonly Dictionary<string, ResourceKind[]> _restsOn;

    public AdmissionPipeline(EgressEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
        _restsOn = new Dictionary<string, ResourceKind[]>(StringComparer.Ordinal)
        {
            // EGW114 is the engine's delete check, not a rule: a deleted object some VirtualService still uses, and that
            // VirtualService may have been deleted a moment ago
            [RuleIds.DeleteLeavesDanglingReference] = [ResourceKind.VirtualService],
        };
        foreach (var rule in engine.Rules)
        {
            foreach (var id in rule.Ids)
            {
                _restsOn[id] = [.. (_restsOn.TryGetValue(id, out var kinds) ? kinds : []).Concat(rule.RestsOnMissing).Distinct()];
            }
        }
    }

    /// <summary>The pipeline with every rule of the catalogue.</summary>
    public static AdmissionPipeline Default { get; } = new(EgressEngine.Default);

    public EgressEngine Engine => _engine;

    /// <summary>The severity a DELETE's only finding (EGW114, a warning by default) gets under <paramref name="settings"/>;
    /// null when the rule is off.</summary>
    public static Severity? DeleteSeverity(AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Policy.Apply(RuleIds.DeleteLeavesDanglingReference, Severity.Warning);
    }

    /// <summary>Decides a validating admission (see <see cref="AdmissionHandler.Validate"/>). With
    /// <paramref name="confirm"/>, a checked decision names the kinds to read directly before it is trusted.</summary>
    public AdmissionDecision Validate(AdmissionSubject subject, EgressSnapshot snapshot, AdmissionSettings settings, bool confirm = false, CancellationToken budget = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(settings);
        if (ValidateUnchecked(subject, snapshot, out var change) is { } answered)
        {
            return answered;
        }

        EgressReport report;
        EgressSnapshot planned;
        try
        {
            // a write of an opted-in entry, or of routing generated for one, is checked against the routing the planner
            // generates for the entry as it will be, not against generated objects that still describe its old version
            // (not for an object EGW210 refuses alone: its routing is never planned, and the check reads none of the state)
            planned = change.Object is { } subjectObject && _engine.OverLimits(subjectObject, change.OldObject ?? snapshot.Find(subjectObject.Key), settings.Policy) is not null
                ? snapshot
                : PlannedRouting.Apply(snapshot, change, settings.Mutation) ?? snapshot;
            report = _engine.CheckChange(planned, change, settings.Policy, budget);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            return AdmissionHandler.Unavailable(subject.Request, AdmissionHandler.DeadlineSpent, settings);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return AdmissionHandler.Unavailable(subject.Request, $"the egress check failed ({ex.GetType().Name}: {AdmissionHandler.FirstLine(ex.Message)})", settings);
        }

        // guardrails: break-glass exceptions and Audit policies are recorded, not answered with
        var (answeredReport, recorded) = PolicyAdmission.Split(report, subject.Request.UserInfo, planned, out var excepted);
        var decision = subject.Operation == Operation.Delete
            ? AdmissionHandler.FromReport(subject.Uid, answeredReport)
            : AdmissionHandler.FromReport(subject.Uid, answeredReport, settings);
        // a change refused for a list longer than Istio's CRD allows (the engine's gate: EGW210 alone) opens nothing, and
        // its host delta would cost as much as the rest of the decision: the audit line has the rule and the count
        var (added, removed) = report.Findings is [{ Rule: RuleIds.ListOverSchemaLimit, Severity: Severity.Error }]
            ? ([], [])
            : OpenedHosts.Delta(change.OldObject ?? (change.Object is { } o ? snapshot.Find(o.Key) : null), change.Object);
        decision = decision with { Recorded = recorded, Exceptions = excepted, HostsAdded = added, HostsRemoved = removed };
        if (recorded.Count > 0)
        {
            decision = decision with { Response = decision.Response with { AuditAnnotations = AdmissionHandler.WithRecorded(decision.Response.AuditAnnotations, recorded, excepted) } };
        }

        if (decision.Awaiting.Count > 0)
        {
            decision = decision with { Admitted = change.Object };
        }

        if (!confirm)
        {
            return decision;
        }

        var plan = ReadsToConfirm(change.Object, decision.Findings, snapshot);
        return plan.IsEmpty
            ? decision
            : decision with { Confirm = plan.Kinds, ConfirmObjects = plan.Objects, ConfirmNamespace = (change.Object ?? change.OldObject) is { Namespace.Length: > 0 } changed ? changed.Namespace : null };
    }

    /// <summary>Decides a mutating admission (see <see cref="AdmissionHandler.Mutate"/>). An entry that asks for
    /// routing and that the validating webhook refuses with EGW210 alone (a list longer than Istio's CRD allows, and EGW210 an error) is neither defaulted
    /// nor planned: no patch, and EGW413 says why (the API server refuses it after this webhook anyway).</summary>
    public AdmissionDecision Mutate(AdmissionSubject subject, EgressSnapshot snapshot, AdmissionSettings settings, CancellationToken budget = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(settings);
        if (MutateUnchecked(subject, out var entry) is { } answered)
        {
            return answered;
        }

        MutationResult result;
        try
        {
            var view = SnapshotView.With(snapshot, entry, budget);

            // only an entry that asks for routing is told why it gets none (EGW4xx); one that does not is defaulted as before
            if (RoutingOptIn.Resolve(entry, view, settings.Mutation).Gateway is not null &&
                _engine.OverLimits(entry, OldEntry(subject, snapshot, entry), settings.Policy) is { } excess)
            {
                return AdmissionHandler.FromMutation(subject.Uid, new MutationResult([], [RoutingEligibility.OverSchemaLimits(entry, excess)], null));
            }

            result = ServiceEntryDefaulter.Default(entry, view, settings.Mutation);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            return AdmissionHandler.MutationUnavailable(subject.Request, AdmissionHandler.DeadlineSpent);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return AdmissionHandler.MutationUnavailable(subject.Request, $"the egress defaults failed ({ex.GetType().Name}: {AdmissionHandler.FirstLine(ex.Message)})");
        }

        return AdmissionHandler.FromMutation(subject.Uid, result);
    }

    /// <summary>The answer while the live-cluster cache has not synced or is stale (<paramref name="problem"/>), decided
    /// without running a rule: kinds and operations the webhook does not read, exempt namespaces and undecodable objects
    /// are answered as usual; the rest is refused with 503 when <paramref name="deny"/> (<c>WhenNotSynced=Deny</c>) —
    /// except a DELETE, whose only finding is EGW114, unless the policy makes EGW114 an error — or allowed unchecked
    /// with a warning. /mutate is never refused for it: allowed without a patch, with the reason as a warning.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "an entry point beside Validate: callers hold the pipeline")]
    public AdmissionDecision WhileNotSynced(AdmissionSubject subject, bool mutate, EgressSnapshot snapshot, string problem, bool deny, AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(settings);
        if ((mutate ? MutateUnchecked(subject, out _) : ValidateUnchecked(subject, snapshot, out _)) is { } answered)
        {
            return answered;
        }

        // refusing deletes for a cache problem would be stricter than the check itself: refused only when it could refuse them
        var refuse = deny && (subject.Operation != Operation.Delete || DeleteSeverity(settings) == Severity.Error);
        return mutate
            ? AdmissionHandler.MutationUnavailable(subject.Request, problem, AdmissionOutcome.Unsynced)
            : AdmissionHandler.NotSynced(subject.Request, problem, refuse);
    }

    /// <summary>The answer to a request that was not decided (the server's large-review gate: its deadline passed while it
    /// waited its turn), from its envelope alone: kinds and operations the webhook does not read and exempt namespaces
    /// are answered as always; a mutation is never refused; otherwise the failure mode applies, and a DELETE is refused
    /// only where the check could refuse it (as while the cache is not synced).</summary>
    public static AdmissionDecision Undecided(AdmissionSubject subject, bool mutate, string reason, AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(settings);
        if (Unread(subject, mutate) is { } unread)
        {
            return unread;
        }

        if (mutate)
        {
            return AdmissionHandler.MutationUnavailable(subject.Request, reason);
        }

        var refuse = subject.Operation != Operation.Delete || DeleteSeverity(settings) == Severity.Error;
        return AdmissionHandler.Unavailable(subject.Request, reason, refuse ? settings : settings with { FailureMode = FailureMode.Allow });
    }

    /// <summary>A ServiceEntry opts in to routing through its Namespace's label: the Namespace the shell reads directly
    /// before a mutation when the snapshot does not hold it yet (created in the same <c>kubectl apply</c>); null when none.</summary>
    public static string? NamespaceToConfirm(AdmissionSubject subject, EgressSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(snapshot);
        var ns = subject.Request.Namespace;
        return subject.Operation is Operation.Create or Operation.Update && !string.IsNullOrEmpty(ns) &&
               subject.ResourceKind == ResourceKind.ServiceEntry && !subject.Exempt &&
               snapshot.Find(new ObjectKey(ResourceKind.Namespace, "", ns)) is null
            ? ns
            : null;
    }

    /// <summary>The kinds whose absence or content a finding of <paramref name="rule"/> rests on
    /// (<see cref="IEgressRule.RestsOnMissing"/> of the rules that report it).</summary>
    public IReadOnlyList<ResourceKind> KindsFor(string rule) => _restsOn.TryGetValue(rule, out var kinds) ? kinds : [];

    /// <summary>The kinds to read in full before trusting <paramref name="findings"/> about <paramref name="subject"/>
    /// (<see cref="ReadsToConfirm"/>'s <see cref="FreshReadPlan.Kinds"/>).</summary>
    public IReadOnlyDictionary<ResourceKind, FreshReadMode> KindsToConfirm(EgressObject? subject, IEnumerable<Finding> findings, EgressSnapshot snapshot) =>
        ReadsToConfirm(subject, findings, snapshot).Kinds;

    /// <summary>What to read before trusting <paramref name="findings"/> about <paramref name="subject"/>, the object
    /// under admission (the deleted one for a delete): for each finding of a rule that rests on other objects
    /// (<see cref="IEgressRule.RestsOnMissing"/>), the missing object it names (<see cref="Awaited.Key"/>: one get by
    /// name, a 404 confirms it is still missing) and, for a rule that judges the content of the objects it names
    /// (<see cref="ContentRules"/>), the objects of those kinds the finding relates (one get each). Every other such
    /// finding rests on "no object of this kind matches" (a ServiceEntry or Service for a host: EGW101, EGW103; a leg of
    /// an egress chain: EGW113; a VirtualService still using a deleted object: EGW114; …): only those read the kind as a
    /// whole. Besides, the clean answer of a VirtualService that routes to a Kubernetes Service rests on no Gateway
    /// selecting that Service's pods (EGW113 stays silent then): Gateways are counted for it.</summary>
    /// <remarks>How much of a kind: a denial, and a content finding that names no object, read the whole kind; a
    /// warning, and a clean answer, count it first (an object created in the same apply changes the count; an existing
    /// one changed within the watch lag does not, and is then judged as cached).</remarks>
    public FreshReadPlan ReadsToConfirm(EgressObject? subject, IEnumerable<Finding> findings, EgressSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(snapshot);
        Dictionary<ResourceKind, FreshReadMode>? plan = null;
        List<ObjectKey>? objects = null;
        // a Kubernetes Service registers only a cluster-local name: for a VirtualService whose hosts are all outside
        // the cluster, only ServiceEntries can be what is missing (Services are the largest kind to read)
        var servicesMatter = subject is not VirtualService routed ||
                             EgressSnapshot.HostsOf(routed).Concat(EgressSnapshot.DestinationHostsOf(routed))
                                 .Any(h => HostName.IsClusterLocal(HostName.Resolve(h, routed.Namespace)));
        foreach (var finding in findings)
        {
            var kinds = KindsFor(finding.Rule);
            if (kinds.Count == 0)
            {
                continue;
            }

            var mode = finding.Severity == Severity.Error || finding.Rule is RuleIds.DestinationPortUnknown or RuleIds.SubsetNotFound
                ? FreshReadMode.Always
                : FreshReadMode.IfCountChanged;
            var named = finding.Awaits?.Key;
            var content = ContentRules.Contains(finding.Rule);
            if (named is { } key)
            {
                AddObject(ref objects, key);
            }

            foreach (var kind in kinds)
            {
                if (kind == ResourceKind.Service && !servicesMatter)
                {
                    continue;
                }

                // the named missing object, or the objects whose content the finding used: got by name
                var byName = named?.Kind == kind;
                if (content && (finding.Awaits is null || byName))
                {
                    foreach (var related in finding.Related)
                    {
                        if (related != subject?.Ref && snapshot.Find(new ObjectKey(kind, related.Namespace, related.Name)) is { } held && held.Ref == related)
                        {
                            AddObject(ref objects, held.Key);
                            byName = true;
                        }
                    }
                }

                if (byName)
                {
                    continue;
                }

                // no object of this kind matches: only the whole kind can show one written a moment ago
                plan ??= [];
                plan[kind] = plan.TryGetValue(kind, out var planned) && planned > mode ? planned : mode;
            }
        }

        if (subject is VirtualService vs && plan?.ContainsKey(ResourceKind.Gateway) != true)
        {
            var view = SnapshotView.Of(snapshot);
            if (EgressSnapshot.DestinationHostsOf(vs).Any(host =>
                    view.Services(HostName.Resolve(host, vs.Namespace)).Any(m => !view.AnyGatewaySelectingPodsOf(m.Item))))
            {
                plan ??= [];
                plan[ResourceKind.Gateway] = FreshReadMode.IfCountChanged;
            }
        }

        return plan is null && objects is null
            ? FreshReadPlan.None
            : new FreshReadPlan(plan ?? NoReads, objects ?? [], subject is { Namespace.Length: > 0 } s ? s.Namespace : null);
    }

    /// <summary>The rules whose findings judge the content of objects they name (a port of the ServiceEntry found,
    /// a subset of the DestinationRule found, a Gateway by reference, a ServiceEntry or Gateway named by a policy or
    /// route): confirmed by getting those objects by name. EGW102 and EGW107 also report "no such object" without a
    /// name, which is read as a kind.</summary>
    public static IReadOnlySet<string> ContentRules { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        RuleIds.DestinationPortUnknown, RuleIds.GatewayReference, RuleIds.SubsetNotFound,
        RuleIds.PolicyTargetNotFound, RuleIds.RouteParentServiceEntryMissing, RuleIds.ListenerRejectsRoute,
    };

    private static void AddObject(ref List<ObjectKey>? objects, ObjectKey key)
    {
        objects ??= [];
        if (!objects.Contains(key))
        {
            objects.Add(key);
        }
    }

    /// <summary>A validating answer that needs no rule (a kind or operation not read, exempt, undecodable, a DELETE of
    /// an object the snapshot does not hold), or null and the change to check.</summary>
    private static AdmissionDecision? ValidateUnchecked(AdmissionSubject subject, EgressSnapshot snapshot, out ObjectChange change)
    {
        change = null!;
        if (Unread(subject, mutate: false) is { } unread)
        {
            return unread;
        }

        // kind and operation are set: Unread answered a request without them
        var resourceKind = subject.ResourceKind.GetValueOrDefault();
        EgressObject? obj, old;
        try
        {
            obj = subject.DecodeObject();
            old = subject.DecodeOld();
        }
        catch (DecodeException ex)
        {
            return AdmissionHandler.Invalid(subject.Uid, subject.Kind, ex, deny: true);
        }

        if (subject.Operation == Operation.Delete)
        {
            var ns = resourceKind is ResourceKind.Namespace or ResourceKind.MeshConfig or ResourceKind.EgressPolicy ? "" : subject.DefaultNamespace;
            old ??= snapshot.Find(new ObjectKey(resourceKind, ns, subject.Request.Name ?? ""));
            if (old is null)
            {
                return AdmissionHandler.Allow(subject.Uid, AdmissionOutcome.Skipped);
            }
        }
        else if (obj is null)
        {
            // a kind the decoder reads only in one shape (a ConfigMap that is not the mesh config)
            return AdmissionHandler.Allow(subject.Uid, AdmissionOutcome.Skipped);
        }

        change = new ObjectChange(subject.Operation.GetValueOrDefault(), obj, old);
        return null;
    }

    /// <summary>The entry's version before an UPDATE, as the validating check takes it (the request's old object, else
    /// the stored one); null when there is none or it cannot be decoded.</summary>
    private static EgressObject? OldEntry(AdmissionSubject subject, EgressSnapshot snapshot, ServiceEntry entry)
    {
        try
        {
            return subject.DecodeOld() ?? snapshot.Find(entry.Key);
        }
        catch (DecodeException)
        {
            return snapshot.Find(entry.Key);
        }
    }

    /// <summary>The answer to a request no rule reads, from its envelope alone: an operation or kind the endpoint does not
    /// judge (the mutation defaults ServiceEntries on CREATE and UPDATE only), or an exempt namespace; else null.</summary>
    private static AdmissionDecision? Unread(AdmissionSubject subject, bool mutate)
    {
        var judged = mutate
            ? subject.Operation is Operation.Create or Operation.Update && subject.ResourceKind == ResourceKind.ServiceEntry
            : subject.Operation is not (null or Operation.Connect) && subject.ResourceKind is not null;
        if (!judged)
        {
            return AdmissionHandler.Allow(subject.Uid, AdmissionOutcome.Skipped);
        }

        return subject.Exempt ? AdmissionHandler.Allow(subject.Uid, AdmissionOutcome.Exempt) : null;
    }

    /// <summary>A mutating answer that needs no defaulting (not a ServiceEntry CREATE or UPDATE, exempt, undecodable),
    /// or null and the entry to default.</summary>
    private static AdmissionDecision? MutateUnchecked(AdmissionSubject subject, out ServiceEntry entry)
    {
        entry = null!;
        if (Unread(subject, mutate: true) is { } unread)
        {
            return unread;
        }

        try
        {
            if (subject.DecodeObject() is not ServiceEntry decoded)
            {
                return AdmissionHandler.Allow(subject.Uid, AdmissionOutcome.Skipped);
            }

            entry = decoded;
            return null;
        }
        catch (DecodeException ex)
        {
            return AdmissionHandler.Invalid(subject.Uid, subject.Kind, ex, deny: false);
        }
    }
}
