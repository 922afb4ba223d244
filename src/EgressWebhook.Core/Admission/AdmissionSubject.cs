using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Admission;

/// <summary>What an admission request is about, worked out once per request and shared by validate, mutate, the
/// not-synced policy, the confirming reads and the audit line: operation, kind, exemption, default namespace, and the
/// decoded <c>object</c>/<c>oldObject</c> (decoded at most once, on first use).</summary>
public sealed class AdmissionSubject
{
    private Decoded? _object;
    private Decoded? _old;

    private AdmissionSubject(AdmissionRequest request, Operation? operation, string apiVersion, string kind, ResourceKind? resourceKind, bool exempt)
    {
        Request = request;
        Operation = operation;
        ApiVersion = apiVersion;
        Kind = kind;
        ResourceKind = resourceKind;
        Exempt = exempt;
        DefaultNamespace = string.IsNullOrEmpty(request.Namespace) ? "default" : request.Namespace;
    }

    public AdmissionRequest Request { get; }

    public string Uid => Request.Uid ?? "";

    /// <summary>The operation; null when the request names none this webhook knows.</summary>
    public Operation? Operation { get; }

    /// <summary>apiVersion of <c>request.kind</c>, or of the object when the request does not say.</summary>
    public string ApiVersion { get; }

    /// <summary>kind of <c>request.kind</c>, or of the object when the request does not say.</summary>
    public string Kind { get; }

    /// <summary>The kind as the engine reads it; null for a kind it does not read.</summary>
    public ResourceKind? ResourceKind { get; }

    /// <summary>In an exempt namespace (for a Namespace object: named as one).</summary>
    public bool Exempt { get; }

    /// <summary>The request's namespace, <c>default</c> when it names none.</summary>
    public string DefaultNamespace { get; }

    /// <summary>Metrics label: the engine's kind name, or <c>other</c>.</summary>
    public string KindLabel => ResourceKind?.ToString() ?? "other";

    /// <summary>Metrics label: the operation as Kubernetes spells it, or <c>other</c>.</summary>
    public string OperationLabel => Operation switch
    {
        Engine.Operation.Create => "CREATE",
        Engine.Operation.Update => "UPDATE",
        Engine.Operation.Delete => "DELETE",
        Engine.Operation.Connect => "CONNECT",
        _ => "other",
    };

    /// <summary>Parses <paramref name="request"/> once under <paramref name="settings"/>' exemptions.</summary>
    public static AdmissionSubject Parse(AdmissionRequest request, AdmissionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        var operation = ParseOperation(request.Operation);
        var (apiVersion, kind) = KindOf(request);
        var resourceKind = ObjectDecoder.KindOf(apiVersion, kind);
        return new AdmissionSubject(request, operation, apiVersion, kind, resourceKind, resourceKind is { } k && IsExempt(request, k, settings));
    }

    /// <summary>The decoded <c>object</c> (null for a DELETE or a kind the decoder does not read in that shape),
    /// decoded on first use.</summary>
    /// <exception cref="DecodeException">A field has the wrong type; the field path starts with <c>object</c>.</exception>
    internal EgressObject? DecodeObject()
    {
        _object ??= Operation == Engine.Operation.Delete ? new Decoded(null, null) : Once(Request.Object, "object", DefaultNamespace);
        return _object.Error is { } error ? throw error : _object.Object;
    }

    /// <summary>The decoded <c>oldObject</c> (null when absent), decoded on first use.</summary>
    /// <exception cref="DecodeException">A field has the wrong type; the field path starts with <c>oldObject</c>.</exception>
    internal EgressObject? DecodeOld()
    {
        _old ??= Request.OldObject is { ValueKind: not JsonValueKind.Null } ? Once(Request.OldObject, "oldObject", DefaultNamespace) : new Decoded(null, null);
        return _old.Error is { } error ? throw error : _old.Object;
    }

    private static Decoded Once(JsonElement? json, string field, string defaultNamespace)
    {
        try
        {
            return new Decoded(DecodeField(json, field, defaultNamespace), null);
        }
        catch (DecodeException ex)
        {
            return new Decoded(null, ex);
        }
    }

    private static EgressObject? DecodeField(JsonElement? json, string field, string defaultNamespace)
    {
        if (json is not { } element || element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            throw new DecodeException(field, "is missing");
        }

        try
        {
            return ObjectDecoder.Decode(element, defaultNamespace);
        }
        catch (DecodeException ex)
        {
            throw new DecodeException(ex.Field.Length == 0 ? field : $"{field}.{ex.Field}", ex.Message);
        }
    }

    private static bool IsExempt(AdmissionRequest request, ResourceKind kind, AdmissionSettings settings)
    {
        if (settings.ExemptNamespaces.Count == 0)
        {
            return false;
        }

        // a Namespace object is cluster-scoped: exempting a namespace exempts the object of that name too
        var ns = kind == Model.ResourceKind.Namespace ? request.Name : request.Namespace;
        return !string.IsNullOrEmpty(ns) && settings.ExemptNamespaces.Contains(ns);
    }

    /// <summary>apiVersion and kind from <c>request.kind</c>, or from the object when the request does not say.</summary>
    private static (string ApiVersion, string Kind) KindOf(AdmissionRequest request)
    {
        if (request.Kind is { Kind: { Length: > 0 } kind } gvk)
        {
            return (gvk.ApiVersion, kind);
        }

        foreach (var json in (ReadOnlySpan<JsonElement?>)[request.Object, request.OldObject])
        {
            if (json is { ValueKind: JsonValueKind.Object } o &&
                o.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String &&
                o.TryGetProperty("apiVersion", out var v) && v.ValueKind == JsonValueKind.String)
            {
                try
                {
                    return (v.GetString()!, k.GetString()!);
                }
                catch (InvalidOperationException)
                {
                    // bad text (invalid UTF-8, a lone surrogate) names no kind this webhook reads
                    return ("", "");
                }
            }
        }

        return ("", "");
    }

    private static Operation? ParseOperation(string? operation) => operation switch
    {
        "CREATE" => Engine.Operation.Create,
        "UPDATE" => Engine.Operation.Update,
        "DELETE" => Engine.Operation.Delete,
        "CONNECT" => Engine.Operation.Connect,
        _ => null,
    };

    private sealed record Decoded(EgressObject? Object, DecodeException? Error);
}
