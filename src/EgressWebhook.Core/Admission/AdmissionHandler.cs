using System.Text;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Admission;

/// <summary>Turns an admission request into a response against a snapshot: decode, check the change, format
/// the findings the way kubectl prints them. Pure: no I/O, no clock, no logging.</summary>
public sealed class AdmissionHandler(EgressEngine engine)
{
    /// <summary>The decisions, made once per request (<see cref="AdmissionSubject"/>).</summary>
    public AdmissionPipeline Pipeline { get; } = new(engine);

    /// <summary>Most errors listed in <c>status.message</c>; the rest are counted.</summary>
    public const int MaxListedErrors = 20;

    /// <summary>Kubernetes' limit on one warning as this webhook applies it.</summary>
    public const int MaxWarningLength = Finding.MaxHeadline;

    /// <summary>Kubernetes drops warnings past 4096 characters in all.</summary>
    public const int MaxWarningsTotal = 4096;

    /// <summary>The reason given when the request's budget is spent before the check finished.</summary>
    public const string DeadlineSpent = "the egress check did not finish within the request's timeout";

    /// <summary>The handler with every rule of the catalogue.</summary>
    public static AdmissionHandler Default { get; } = new(EgressEngine.Default);

    /// <summary>Decides a validating admission.</summary>
    /// <param name="request">The review's request; its uid is echoed.</param>
    /// <param name="snapshot">The current state of the cluster (without the change).</param>
    /// <param name="settings">Enforcement, exemptions, failure mode.</param>
    /// <param name="budget">The request's deadline; once it is spent the check stops and the failure mode answers.</param>
    public AdmissionDecision Validate(AdmissionRequest request, EgressSnapshot snapshot, AdmissionSettings settings, CancellationToken budget = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        return Pipeline.Validate(AdmissionSubject.Parse(request, settings), snapshot, settings, confirm: false, budget);
    }

    /// <summary>After the grace period: which of the <paramref name="awaiting"/> findings (of an admitted change) still
    /// rest on a missing object in <paramref name="snapshot"/>. The objects they are about are checked again as stored;
    /// <paramref name="admitted"/> stands in for the changed object when the snapshot does not reflect writes (the
    /// state directory). An object no longer there has nothing left to report.</summary>
    public IReadOnlyList<Finding> Recheck(EgressSnapshot snapshot, EgressObject? admitted, IReadOnlyList<Finding> awaiting, AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(awaiting);
        ArgumentNullException.ThrowIfNull(settings);
        var view = admitted is null ? SnapshotView.Of(snapshot) : SnapshotView.With(snapshot, admitted);
        var still = new List<Finding>();
        foreach (var group in awaiting.GroupBy(f => f.Object))
        {
            if (!Enum.TryParse<ResourceKind>(group.Key.Kind, out var kind) || view.Find(new ObjectKey(kind, group.Key.Namespace, group.Key.Name)) is not { } obj)
            {
                continue;
            }

            var now = engine.CheckObject(view, obj, settings.Policy);
            still.AddRange(now.Where(f => f.Awaits is not null && group.Any(a => a.Rule == f.Rule && a.Path == f.Path)));
        }

        return still;
    }

    /// <summary>Decides a mutating admission: a ServiceEntry CREATE or UPDATE that opts in to egress-gateway routing
    /// gets a JSON Patch with its defaults (<see cref="ServiceEntryDefaulter"/>); when routing cannot be given, no
    /// patch and the EGW4xx reasons as warnings. Every other request is allowed unchanged.</summary>
    /// <remarks>Never denies: the mutating webhook is not the enforcement point, the validating webhook is. An object
    /// that cannot be decoded is allowed unpatched with a warning; the validating webhook, which sees the same object,
    /// denies it with the field named, so denying here too would only report the problem twice.</remarks>
    /// <param name="request">The review's request; its uid is echoed.</param>
    /// <param name="snapshot">The current state of the cluster (without the change).</param>
    /// <param name="settings">Exemptions and <see cref="AdmissionSettings.Mutation"/>.</param>
    /// <param name="budget">The request's deadline; once it is spent the entry is allowed unpatched with a warning.</param>
    public AdmissionDecision Mutate(AdmissionRequest request, EgressSnapshot snapshot, AdmissionSettings settings, CancellationToken budget = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        return Pipeline.Mutate(AdmissionSubject.Parse(request, settings), snapshot, settings, budget);
    }

    /// <summary>The response for a mutation result: the patch (base64 of the JSON Patch document, none when there
    /// is no operation), the EGW4xx notices as warnings, rule ids in <c>auditAnnotations</c>.</summary>
    public static AdmissionDecision FromMutation(string uid, MutationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var outcome = result.Warnings.Count > 0 ? AdmissionOutcome.Warned : result.Patch.Count > 0 ? AdmissionOutcome.Patched : AdmissionOutcome.Allowed;
        return Respond(uid, outcome, result.Warnings, warnings: Warnings(result.Warnings), patch: result.Patch);
    }

    /// <summary>A mutation that cannot be computed (no snapshot, the defaulter threw, the cache is not synced): allowed
    /// without a patch and with a warning, whatever the failure mode. Defaults are a convenience and are applied on the
    /// next update; refusing the change would block ServiceEntries for a reason that is not theirs, while the validating
    /// webhook still enforces (and applies the failure mode).</summary>
    public static AdmissionDecision MutationUnavailable(AdmissionRequest request, string reason, AdmissionOutcome outcome = AdmissionOutcome.Failed)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Respond(request.Uid ?? "", outcome, [], warnings: [Finding.Clamp($"egress defaults skipped: {reason}")]);
    }

    /// <summary>The answer to a validating admission while the live-cluster cache has not synced or is stale: with
    /// <paramref name="deny"/>, refused with code 503 (<c>ServiceUnavailable</c>) and <paramref name="reason"/>, which
    /// asks the client to retry; otherwise allowed unchecked with the reason as a warning.</summary>
    public static AdmissionDecision NotSynced(AdmissionRequest request, string reason, bool deny)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reason);
        var line = FirstLine(reason);
        return deny
            ? Respond(request.Uid ?? "", AdmissionOutcome.Unsynced, [], status: Status(503, "ServiceUnavailable", $"egress check not run: {line}"))
            : Respond(request.Uid ?? "", AdmissionOutcome.Unsynced, [], warnings: [Finding.Clamp($"egress check skipped: {line}")]);
    }

    /// <summary>The answer when the check cannot run (no snapshot yet, a rule threw, the deadline passed),
    /// as the failure mode says.</summary>
    public static AdmissionDecision Unavailable(AdmissionRequest request, string reason, AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        var uid = request.Uid ?? "";
        return settings.FailureMode == FailureMode.Allow
            ? Respond(uid, AdmissionOutcome.Failed, [], warnings: [Finding.Clamp($"egress check skipped: {reason}")])
            : Respond(uid, AdmissionOutcome.Failed, [], status: Status(500, "InternalError", $"egress check could not run, failure mode Deny refuses the change: {reason}"));
    }

    /// <summary>The response for a report: errors deny with <c>status.message</c> listing them, warnings go to
    /// <c>warnings</c>, rule ids to <c>auditAnnotations</c>.</summary>
    public static AdmissionDecision FromReport(string uid, EgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var errors = report.Findings.Where(f => f.Severity == Severity.Error).ToList();
        var outcome = errors.Count > 0 ? AdmissionOutcome.Denied : report.Findings.Count > 0 ? AdmissionOutcome.Warned : AdmissionOutcome.Allowed;
        return Respond(uid, outcome, report.Findings, status: errors.Count == 0 ? null : Status(403, "Forbidden", StatusMessage(errors)),
            warnings: Warnings(report.Findings.Where(f => f.Severity == Severity.Warning)));
    }

    /// <summary>The response for a report of a CREATE or UPDATE under <paramref name="settings"/>: an error that rests on
    /// a missing object (<see cref="Finding.Awaits"/>) is admitted as a warning that names what is awaited and goes to
    /// <see cref="AdmissionDecision.Awaiting"/> for the re-check, unless the enforcement (or its rule) is strict.
    /// Contradictions deny as in <see cref="FromReport(string, EgressReport)"/>.</summary>
    public static AdmissionDecision FromReport(string uid, EgressReport report, AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(settings);
        var awaiting = report.Findings.Where(f => f.Severity == Severity.Error && f.Awaits is not null && !settings.IsStrict(f.Rule)).ToList();
        var tolerated = awaiting.ToHashSet(ReferenceEqualityComparer.Instance);
        if (report.Findings.Any(f => f.Severity == Severity.Error && !tolerated.Contains(f)))
        {
            // denied for a contradiction (or a strict rule) anyway: the incompleteness is listed with it, as the offline check lists it
            return FromReport(uid, report);
        }

        // every incompleteness names what it waits for; the admitted errors also say when they are looked at again
        var grace = Describe(settings.GracePeriod);
        var lines = report.Findings.Select(f => f.Awaits is null
            ? f
            : f with
            {
                // an admitted error's fix is what it awaits: the line keeps that and when it is looked at again, within 120
                // characters with kubectl's prefix (the whole finding is in the audit line and, if still missing, the Event)
                Message = tolerated.Contains(f) ? $"awaiting {f.Awaits.What}; re-check in {grace}" : $"awaiting {f.Awaits.What}: {f.Message}",
            });
        var outcome = report.Findings.Count > 0 ? AdmissionOutcome.Warned : AdmissionOutcome.Allowed;
        var findings = report.Findings.Select(f => tolerated.Contains(f) ? f with { Severity = Severity.Warning } : f).ToList();
        return Respond(uid, outcome, findings, warnings: Warnings(lines), annotated: report.Findings) with { Awaiting = awaiting };
    }

    /// <summary><c>30s</c>, <c>1m30s</c>, <c>500ms</c>.</summary>
    internal static string Describe(TimeSpan span) => span switch
    {
        { TotalSeconds: < 1 } => $"{(int)span.TotalMilliseconds}ms",
        { TotalMinutes: < 1 } => $"{(int)span.TotalSeconds}s",
        _ => span.Seconds == 0 ? $"{(int)span.TotalMinutes}m" : $"{(int)span.TotalMinutes}m{span.Seconds}s",
    };

    /// <summary>kubectl prints it after "denied the request: ": a summary line, then one line per error.</summary>
    internal static string StatusMessage(IReadOnlyList<Finding> errors)
    {
        var sb = new StringBuilder();
        sb.Append(errors.Count == 1 ? "1 broken egress link" : $"{errors.Count} broken egress links");
        foreach (var f in errors.Take(MaxListedErrors))
        {
            sb.Append('\n').Append(f.Rule).Append(' ').Append(f.Object.ToString());
            if (f.Path.Length > 0)
            {
                sb.Append(" (").Append(f.Path).Append(')');
            }

            sb.Append(": ").Append(f.Message);
        }

        if (errors.Count > MaxListedErrors)
        {
            sb.Append('\n').Append($"… and {errors.Count - MaxListedErrors} more");
        }

        return sb.ToString();
    }

    /// <summary>One warning per finding (<c>EGW202 ServiceEntry ns/name: headline</c>, at most 120 characters),
    /// at most 4096 characters in all; past that a last line says how many were left out.</summary>
    internal static IReadOnlyList<string>? Warnings(IEnumerable<Finding> findings)
    {
        var all = findings.Select(f => f.WarningLine()).ToList();
        if (all.Count == 0)
        {
            return null;
        }

        if (all.Sum(w => w.Length) <= MaxWarningsTotal)
        {
            return all;
        }

        // room for the closing line: "… and 99999 more egress warnings not shown"
        const int reserve = 48;
        var kept = new List<string>();
        var total = 0;
        foreach (var w in all)
        {
            if (total + w.Length + reserve > MaxWarningsTotal)
            {
                break;
            }

            kept.Add(w);
            total += w.Length;
        }

        kept.Add($"… and {all.Count - kept.Count} more egress warnings not shown");
        return kept;
    }

    /// <summary><c>decision</c> and <c>rules</c>: unprefixed keys, the API server prefixes them with the webhook name.</summary>
    internal static IReadOnlyDictionary<string, string> Annotations(AdmissionOutcome outcome, IReadOnlyList<Finding> findings)
    {
        var annotations = new Dictionary<string, string>(2, StringComparer.Ordinal)
        {
            ["decision"] = outcome.ToString().ToLowerInvariant(),
        };
        if (findings.Count > 0)
        {
            annotations["rules"] = string.Join(',', findings.Select(f => f.Rule).Distinct().Order(StringComparer.Ordinal));
        }

        return annotations;
    }

    /// <summary>The audit annotations with the rule ids of <paramref name="recorded"/> guardrail findings added to
    /// <c>rules</c>, and the break-glass policies under <c>exceptions</c>.</summary>
    internal static IReadOnlyDictionary<string, string> WithRecorded(IReadOnlyDictionary<string, string>? annotations, IReadOnlyList<Finding> recorded,
        IReadOnlyList<string> exceptions)
    {
        var result = annotations is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(annotations, StringComparer.Ordinal);
        var rules = (result.TryGetValue("rules", out var listed) ? listed.Split(',') : []).Concat(recorded.Select(f => f.Rule));
        result["rules"] = string.Join(',', rules.Distinct().Order(StringComparer.Ordinal));
        if (exceptions.Count > 0)
        {
            result["exceptions"] = string.Join(',', exceptions);
        }

        return result;
    }

    internal static AdmissionDecision Allow(string uid, AdmissionOutcome outcome) => Respond(uid, outcome, []);

    /// <summary>An object that cannot be decoded: denied with 422 by /validate, which names the field; allowed
    /// unpatched with a warning by /mutate (<paramref name="deny"/> false), so the problem is reported once.</summary>
    internal static AdmissionDecision Invalid(string uid, string kind, DecodeException ex, bool deny) => deny
        ? Respond(uid, AdmissionOutcome.Invalid, [], status: Status(422, "Invalid", $"{kind} cannot be decoded: {ex.Describe()}"))
        : Respond(uid, AdmissionOutcome.Invalid, [], warnings: [Finding.Clamp($"egress defaults skipped: {kind} cannot be decoded: {ex.Describe()}")]);

    /// <summary>The one factory of responses: allowed unless <paramref name="status"/> (a refusal) is given; the
    /// <c>decision</c> and <c>rules</c> audit annotations from <paramref name="outcome"/> and
    /// <paramref name="findings"/>; the JSON Patch, base64, when there is an operation.</summary>
    private static AdmissionDecision Respond(string uid, AdmissionOutcome outcome, IReadOnlyList<Finding> findings, AdmissionStatus? status = null,
        IReadOnlyList<string>? warnings = null, IReadOnlyList<PatchOperation>? patch = null, IReadOnlyList<Finding>? annotated = null)
    {
        var patched = patch is { Count: > 0 };
        var response = new AdmissionResponse
        {
            Uid = uid,
            Allowed = status is null,
            Status = status,
            Warnings = warnings,
            Patch = patched ? Convert.ToBase64String(PatchOperation.ToUtf8Json(patch!)) : null,
            PatchType = patched ? AdmissionResponse.JsonPatch : null,
            AuditAnnotations = Annotations(outcome, annotated ?? findings),
        };
        return new AdmissionDecision(response, outcome, findings, patch);
    }

    private static AdmissionStatus Status(int code, string reason, string message) =>
        new() { Status = "Failure", Code = code, Reason = reason, Message = message };

    internal static string FirstLine(string s)
    {
        var i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}
