using System.Text.Json.Serialization;

namespace EgressWebhook.Server.Audit;

/// <summary>One admission decision as the audit log records it: who, what, the outcome and the rule ids; never the object.
/// <see cref="PatchOperations"/>: how many JSON Patch operations /mutate returned (absent when none). Fields copied from the
/// request are capped (<see cref="AuditFields"/>); <see cref="Truncated"/> names those that were (absent when none).</summary>
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
    IReadOnlyList<string>? Truncated = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class AuditJsonContext : JsonSerializerContext
{
}
