using System.Text.Json;
using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Admission;

/// <summary>An <c>admission.k8s.io/v1</c> (or <c>v1beta1</c>) AdmissionReview: the request the API server sends
/// and the same envelope with <see cref="Response"/> filled in as the answer.</summary>
public sealed record AdmissionReview
{
    public const string Group = "admission.k8s.io";
    public const string V1 = "admission.k8s.io/v1";
    public const string V1Beta1 = "admission.k8s.io/v1beta1";
    public const string KindName = "AdmissionReview";

    /// <summary><c>admission.k8s.io/v1</c> or <c>admission.k8s.io/v1beta1</c>; the answer echoes it.</summary>
    public string? ApiVersion { get; init; }

    /// <summary><c>AdmissionReview</c>.</summary>
    public string? Kind { get; init; }

    /// <summary>What the API server asks about (absent in an answer).</summary>
    public AdmissionRequest? Request { get; init; }

    /// <summary>The webhook's answer (absent in a request).</summary>
    public AdmissionResponse? Response { get; init; }

    /// <summary>Whether the envelope names a version this webhook answers.</summary>
    [JsonIgnore]
    public bool IsSupportedVersion => Kind == KindName && ApiVersion is V1 or V1Beta1;

    /// <summary>The answer in the version the request came in, echoing its uid.</summary>
    public AdmissionReview Answer(AdmissionResponse response) =>
        new() { ApiVersion = ApiVersion, Kind = Kind, Response = response };
}

/// <summary>The request part of an AdmissionReview. <see cref="Object"/> and <see cref="OldObject"/> stay raw JSON:
/// they are decoded by <see cref="Serialization.ObjectDecoder"/>, the one decode path of the project.</summary>
public sealed record AdmissionRequest
{
    /// <summary>Identifies this admission; the response must carry it back.</summary>
    public string? Uid { get; init; }

    /// <summary>Kind of the object as the webhook is registered for it.</summary>
    public GroupVersionKind? Kind { get; init; }

    /// <summary>Resource (plural) being changed.</summary>
    public GroupVersionResource? Resource { get; init; }

    /// <summary>Subresource (<c>status</c>, …), empty for the object itself.</summary>
    public string? SubResource { get; init; }

    public GroupVersionKind? RequestKind { get; init; }

    public GroupVersionResource? RequestResource { get; init; }

    public string? RequestSubResource { get; init; }

    /// <summary>Object name; may be empty on CREATE with <c>generateName</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Namespace of the request (the decoder's default namespace); empty for cluster-scoped kinds.</summary>
    public string? Namespace { get; init; }

    /// <summary><c>CREATE</c>, <c>UPDATE</c>, <c>DELETE</c> or <c>CONNECT</c>.</summary>
    public string? Operation { get; init; }

    /// <summary>The user making the change (audit log).</summary>
    public UserInfo? UserInfo { get; init; }

    /// <summary>The new object (CREATE, UPDATE).</summary>
    public JsonElement? Object { get; init; }

    /// <summary>The stored object (UPDATE, DELETE).</summary>
    public JsonElement? OldObject { get; init; }

    /// <summary>Nothing will be persisted; decided the same way.</summary>
    public bool? DryRun { get; init; }

    /// <summary>Create/Update/DeleteOptions, kept raw.</summary>
    public JsonElement? Options { get; init; }
}

/// <summary>Group, version and kind of the object under admission.</summary>
public sealed record GroupVersionKind
{
    public string? Group { get; init; }

    public string? Version { get; init; }

    public string? Kind { get; init; }

    /// <summary><c>group/version</c>, or just <c>version</c> for the core group.</summary>
    [JsonIgnore]
    public string ApiVersion => string.IsNullOrEmpty(Group) ? Version ?? "" : $"{Group}/{Version}";
}

/// <summary>Group, version and resource (plural) of the object under admission.</summary>
public sealed record GroupVersionResource
{
    public string? Group { get; init; }

    public string? Version { get; init; }

    public string? Resource { get; init; }
}

/// <summary>Who made the request.</summary>
public sealed record UserInfo
{
    public string? Username { get; init; }

    public string? Uid { get; init; }

    public IReadOnlyList<string>? Groups { get; init; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Extra { get; init; }
}

/// <summary>The webhook's answer.</summary>
public sealed record AdmissionResponse
{
    public const string JsonPatch = "JSONPatch";

    /// <summary>The request's uid.</summary>
    public string Uid { get; init; } = "";

    /// <summary>Whether the change may go ahead.</summary>
    public bool Allowed { get; init; }

    /// <summary>Why not (denials only).</summary>
    public AdmissionStatus? Status { get; init; }

    /// <summary>Base64 of a JSON Patch document (mutation only).</summary>
    public string? Patch { get; init; }

    public string? PatchType { get; init; }

    /// <summary>Keys are unprefixed qualified names; the API server prefixes them with the webhook name.</summary>
    public IReadOnlyDictionary<string, string>? AuditAnnotations { get; init; }

    /// <summary>Shown by kubectl as <c>Warning: …</c>; at most 120 characters each, 4096 in all.</summary>
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>A <c>metav1.Status</c>: what kubectl prints for a denial.</summary>
public sealed record AdmissionStatus
{
    /// <summary><c>Success</c> or <c>Failure</c>.</summary>
    public string? Status { get; init; }

    /// <summary>What kubectl prints after <c>denied the request:</c>.</summary>
    public string? Message { get; init; }

    /// <summary>A machine-readable reason, e.g. <c>Forbidden</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>HTTP-style code the API server returns to the client (403 denied, 422 undecodable, 500 check failed).</summary>
    public int Code { get; init; }
}
