using System.Text.Json.Serialization;

namespace EgressWebhook.Server.Audit;

/// <summary>One admission decision as the audit log records it: who, what, the outcome and the rule ids; never the object.
/// <see cref="PatchOperations"/>: how many JSON Patch operations /mutate returned (absent when none). Fields copied from the
/// request are capped (<see cref="AuditFields"/>); <see cref="Truncated"/> names those that were (absent when none). The guardrail fields
/// (docs/policy.md) say which external hosts the change opens or closes and which policy exceptions it used.</summary>
internal sealed record AuditRecord(
    DateTimeOffset Time,
    string Webhook,
    string Uid,
    string? User,
    IReadOnlyList<string>? Groups,
    string? Operation,
    string? Kind,
    string? Namespace,
    string? Name,
    bool DryRun,
    bool Allowed,
    string Decision,
    IReadOnlyList<string> Rules,
    double LatencyMs,
    int? PatchOperations = null,
    IReadOnlyList<string>? Truncated = null)
{
    /// <summary>External <c>host:port</c> entries the change opens (absent when none; capped, <see cref="AuditFields.HostsBytes"/>).</summary>
    public IReadOnlyList<string>? HostsAdded { get; init; }

    /// <summary>External <c>host:port</c> entries the change closes (absent when none).</summary>
    public IReadOnlyList<string>? HostsRemoved { get; init; }

    /// <summary>Rule ids of guardrail findings recorded but not answered with (an Audit policy's, or let through by an exception).</summary>
    public IReadOnlyList<string>? Recorded { get; init; }

    /// <summary>The EgressPolicies whose exceptions (break-glass) let this request through.</summary>
    public IReadOnlyList<string>? Exceptions { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class AuditJsonContext : JsonSerializerContext
{
}
