using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Admission;

/// <summary>Source-generated JSON for AdmissionReview envelopes (no reflection on the request path).</summary>
/// <remarks>Strict on the envelope (a wrong type is a bad request), unlike the lenient manifest context:
/// the API server always sends well-typed reviews, so anything else is not one.</remarks>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 128)]
[JsonSerializable(typeof(AdmissionReview))]
[JsonSerializable(typeof(IReadOnlyList<Mutation.PatchOperation>))]
public sealed partial class AdmissionJsonContext : JsonSerializerContext
{
}
