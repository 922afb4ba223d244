using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EgressWebhook.Core.Admission;

namespace EgressWebhook.Core.Mutation;

/// <summary>One RFC 6902 JSON Patch operation, as the webhook returns it (<c>patchType: JSONPatch</c>).</summary>
/// <param name="Op"><c>add</c> or <c>replace</c> (the defaulter needs no other).</param>
/// <param name="Path">RFC 6901 pointer, e.g. <c>/metadata/annotations/egress.istio.io~1gateway</c>.</param>
/// <param name="Value">The value to write.</param>
public sealed record PatchOperation(
    string Op,
    string Path,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonNode? Value)
{
    public const string Add = "add";
    public const string Replace = "replace";

    /// <summary>The operations as a JSON Patch document (a JSON array), ready to base64-encode into an AdmissionResponse.</summary>
    public static string ToJson(IEnumerable<PatchOperation> operations) =>
        JsonSerializer.Serialize(AsList(operations), AdmissionJsonContext.Default.IReadOnlyListPatchOperation);

    /// <summary>The JSON Patch document as UTF-8, through the source-generated context (no reflection on the request path).</summary>
    public static byte[] ToUtf8Json(IEnumerable<PatchOperation> operations) =>
        JsonSerializer.SerializeToUtf8Bytes(AsList(operations), AdmissionJsonContext.Default.IReadOnlyListPatchOperation);

    private static IReadOnlyList<PatchOperation> AsList(IEnumerable<PatchOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        return operations as IReadOnlyList<PatchOperation> ?? operations.ToList();
    }
}
