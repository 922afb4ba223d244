using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Admission;

/// <summary>How an admission was decided (metrics label and <c>decision</c> audit annotation).</summary>
public enum AdmissionOutcome
{
    /// <summary>Checked, no finding.</summary>
    Allowed,

    /// <summary>Checked, warnings only.</summary>
    Warned,

    /// <summary>Checked, at least one error.</summary>
    Denied,

    /// <summary>The object could not be decoded (a field of the wrong type).</summary>
    Invalid,

    /// <summary>A kind or operation the engine does not read.</summary>
    Skipped,

    /// <summary>In an exempt namespace.</summary>
    Exempt,

    /// <summary>The check could not run; the failure mode decided.</summary>
    Failed,

    /// <summary>Mutation: a JSON Patch was returned, with no warning.</summary>
    Patched,

    /// <summary>The live-cluster cache has not synced or is stale; <c>Webhook:Cluster:WhenNotSynced</c> decided, unchecked.</summary>
    Unsynced,
}

/// <summary>An admission response with what led to it.</summary>
/// <param name="Response">The answer for the API server.</param>
/// <param name="Outcome">How it was decided.</param>
/// <param name="Findings">The findings (empty unless checked); for a mutation, the EGW4xx notices.</param>
/// <param name="Patch">The JSON Patch operations the response carries (mutation only; empty otherwise).</param>
public sealed record AdmissionDecision(AdmissionResponse Response, AdmissionOutcome Outcome, IReadOnlyList<Finding> Findings, IReadOnlyList<PatchOperation>? Patch = null)
{
    /// <summary>Errors admitted as warnings because they rest on a missing object (incompleteness, not strict): to be
    /// re-checked after the grace period. Their severity is still <see cref="Severity.Error"/>.</summary>
    public IReadOnlyList<Finding> Awaiting { get; init; } = [];

    /// <summary>The changed object as admitted, when <see cref="Awaiting"/> is not empty (the re-check's subject where the
    /// snapshot does not hold written objects).</summary>
    public EgressObject? Admitted { get; init; }

    /// <summary>The kinds to read directly before this decision is trusted (read your writes), and how much of each;
    /// empty unless asked for (<see cref="AdmissionPipeline.Validate"/> with <c>confirm</c>). The shell reads them
    /// and decides again on what it read.</summary>
    public IReadOnlyDictionary<ResourceKind, FreshReadMode> Confirm { get; init; } = NoReads;

    private static readonly Dictionary<ResourceKind, FreshReadMode> NoReads = [];

    /// <summary>The objects to get by name before this decision is trusted (<see cref="FreshReadPlan.Objects"/>); empty
    /// unless asked for.</summary>
    public IReadOnlyList<ObjectKey> ConfirmObjects { get; init; } = [];

    /// <summary>The namespace a kind of <see cref="Confirm"/> is first read in (<see cref="FreshReadPlan.Namespace"/>).</summary>
    public string? ConfirmNamespace { get; init; }

    /// <summary><see cref="Confirm"/>, <see cref="ConfirmObjects"/> and <see cref="ConfirmNamespace"/> as one plan.</summary>
    public FreshReadPlan ConfirmPlan => Confirm.Count == 0 && ConfirmObjects.Count == 0
        ? FreshReadPlan.None
        : new FreshReadPlan(Confirm, ConfirmObjects, ConfirmNamespace);

    /// <summary>Guardrail findings recorded but not answered with: an Audit policy's, and those of a policy whose
    /// exceptions let the requester through (<see cref="Exceptions"/>). For the audit line.</summary>
    public IReadOnlyList<Finding> Recorded { get; init; } = [];

    /// <summary>The EgressPolicies whose <c>spec.exceptions</c> (break-glass) let this request through a finding.</summary>
    public IReadOnlyList<string> Exceptions { get; init; } = [];

    /// <summary>External <c>host:port</c> entries the change opens that the stored object did not (audit line).</summary>
    public IReadOnlyList<string> HostsAdded { get; init; } = [];

    /// <summary>External <c>host:port</c> entries the stored object opened that the change drops (audit line).</summary>
    public IReadOnlyList<string> HostsRemoved { get; init; } = [];

    /// <summary>The JSON Patch operations of the response; empty when nothing is patched.</summary>
    public IReadOnlyList<PatchOperation> PatchOperations => Patch ?? [];

    /// <summary>Distinct rule ids of the findings, in id order.</summary>
    public IReadOnlyList<string> RuleIds { get; } = Findings.Select(f => f.Rule).Distinct().Order(StringComparer.Ordinal).ToArray();

    public bool Allowed => Response.Allowed;

    /// <summary>Lower-case outcome name (<c>denied</c>).</summary>
    public string OutcomeName => OutcomeNames[(int)Outcome];

    private static readonly string[] OutcomeNames = Enum.GetNames<AdmissionOutcome>().Select(n => n.ToLowerInvariant()).ToArray();
}
