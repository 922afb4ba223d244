using System.Text.Json;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Serialization;

/// <summary>Decodes one JSON object (from YAML or from an AdmissionReview) into the model, through its <see cref="KindTable"/> row.</summary>
/// <remarks>Unknown kinds give <c>null</c>; unknown fields are ignored; a field of the wrong type
/// is a <see cref="DecodeException"/> naming the field.</remarks>
public static class ObjectDecoder
{
    /// <summary>Decodes an object; <c>null</c> when its kind is not one the engine reads.</summary>
    /// <param name="json">The object.</param>
    /// <param name="defaultNamespace">Namespace for namespaced objects without one.</param>
    /// <exception cref="DecodeException">A field has the wrong type or the object is not a JSON object.</exception>
    public static EgressObject? Decode(JsonElement json, string defaultNamespace)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new DecodeException("", $"expected an object, found {json.ValueKind.ToString().ToLowerInvariant()}");
        }

        var apiVersion = GetString(json, "apiVersion") ?? "";
        var kind = GetString(json, "kind") ?? "";
        var row = KindTable.Find(apiVersion, kind);
        if (row is null)
        {
            return kind.Length == 0 && apiVersion.Length == 0 ? DecodeFragment(json) : null;
        }

        var decoded = row.Decode(json);
        return decoded is null ? null : WithNamespace(decoded, defaultNamespace);
    }

    /// <summary>The model kind of <paramref name="apiVersion"/>/<paramref name="kind"/> (<see cref="KindTable.Find"/>), or null
    /// for a kind the engine does not read.</summary>
    internal static ResourceKind? KindOf(string apiVersion, string kind) => KindTable.Find(apiVersion, kind)?.Kind;

    /// <summary>Whether a ConfigMap is Istio's mesh config: <c>istio</c> or revisioned <c>istio-&lt;rev&gt;</c>, with a <c>mesh</c> key.</summary>
    public static bool IsMeshConfigMapName(string name) => name == "istio" || name.StartsWith("istio-", StringComparison.Ordinal);

    internal static MeshConfig? DecodeMeshConfigMap(JsonElement json)
    {
        var map = Deserialize(json, EgressJsonContext.Default.ConfigMapDocument);
        // a null mesh key (seen on a DELETE's oldObject) holds no mesh config, like an absent one
        if (!IsMeshConfigMapName(map.Metadata.Name) || !map.Data.TryGetValue("mesh", out var mesh) || mesh is null)
        {
            return null;
        }

        // Istio reads data.mesh itself; what it cannot load is a finding about the ConfigMap (EGW117), not a decode error
        MeshConfig config;
        try
        {
            var docs = YamlJson.ParseDocuments(mesh);
            config = docs.Count == 0 ? new MeshConfig() : Deserialize(docs[0].Json, EgressJsonContext.Default.MeshConfig);
        }
        catch (ManifestException ex)
        {
            config = new MeshConfig { DecodeProblem = new MeshConfigProblem("", ex.Line > 0 ? $"data.mesh is not YAML at line {ex.Line}" : "data.mesh is not YAML") };
        }
        catch (DecodeException ex)
        {
            config = new MeshConfig { DecodeProblem = new MeshConfigProblem(ex.Field, ex.Message) };
        }

        return config with { ApiVersion = "v1", Metadata = map.Metadata };
    }

    internal static MeshConfig? DecodeIstioOperator(JsonElement json)
    {
        // spec.meshConfig of the wrong shape is Istio's problem to report (EGW117); the rest of the object must decode
        if (json.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("meshConfig", out var meshJson))
        {
            var meta = json.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object
                ? Deserialize(json, EgressJsonContext.Default.ConfigMapDocument).Metadata
                : new ObjectMeta();
            if (meshJson.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            try
            {
                return meshJson.ValueKind == JsonValueKind.Object
                    ? Deserialize(meshJson, EgressJsonContext.Default.MeshConfig) with { ApiVersion = GetString(json, "apiVersion") ?? "", Metadata = meta }
                    : new MeshConfig { Metadata = meta, DecodeProblem = new MeshConfigProblem("", "meshConfig is not an object") };
            }
            catch (DecodeException ex)
            {
                return new MeshConfig { Metadata = meta, DecodeProblem = new MeshConfigProblem(ex.Field, ex.Message) };
            }
        }

        return null;
    }

    /// <summary>A document with neither apiVersion nor kind: an IstioOperator <c>spec:</c> fragment
    /// (it has <c>spec.meshConfig</c>) or a bare MeshConfig (it has one of the mesh fields the rules read).</summary>
    private static MeshConfig? DecodeFragment(JsonElement json)
    {
        if (json.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("meshConfig", out _))
        {
            return DecodeIstioOperator(json);
        }

        foreach (var key in (ReadOnlySpan<string>)["outboundTrafficPolicy", "serviceEntryVisibility", "defaultConfig", "rootNamespace", "defaultServiceExportTo", "defaultVirtualServiceExportTo", "defaultDestinationRuleExportTo"])
        {
            if (json.TryGetProperty(key, out _))
            {
                return Deserialize(json, EgressJsonContext.Default.MeshConfig);
            }
        }

        return null;
    }

    private static EgressObject WithNamespace(EgressObject obj, string defaultNamespace) => obj switch
    {
        Namespace or MeshConfig or EgressPolicy => obj.Metadata.Namespace is null or "" ? obj : obj with { Metadata = obj.Metadata with { Namespace = "" } },
        _ when string.IsNullOrEmpty(obj.Metadata.Namespace) => obj with { Metadata = obj.Metadata with { Namespace = defaultNamespace } },
        _ => obj,
    };

    internal static T Deserialize<T>(JsonElement json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string prefix = "")
    {
        try
        {
            return json.Deserialize(type) ?? throw new DecodeException(prefix, "is null");
        }
        catch (JsonException ex)
        {
            throw new DecodeException(Join(prefix, JsonPathToField(ex.Path)), Describe(json, ex));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException or NotSupportedException)
        {
            throw new DecodeException(prefix, ex.Message);
        }
    }

    private static string Join(string prefix, string path) => prefix.Length == 0 ? path : path.Length == 0 ? prefix : $"{prefix}.{path}";

    /// <summary><c>$.spec.ports[0].number</c> → <c>spec.ports[0].number</c>.</summary>
    internal static string JsonPathToField(string? path) =>
        path is null or "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>Says what is wrong with the value at the failing path (System.Text.Json's messages name CLR types).</summary>
    private static string Describe(JsonElement root, JsonException ex)
    {
        // invalid UTF-8, or an escaped lone surrogate ("\ud800"): the value cannot become a string, and must not be shown
        if (ex.InnerException is InvalidOperationException or System.Text.DecoderFallbackException)
        {
            return BadText;
        }

        if (ValueAt(root, JsonPathToField(ex.Path)) is { } value)
        {
            string raw;
            try
            {
                raw = value.GetRawText();
            }
            catch (InvalidOperationException)
            {
                return BadText;
            }

            if (raw.Length > 40)
            {
                raw = string.Concat(raw.AsSpan(0, 39), "…");
            }

            return value.ValueKind switch
            {
                JsonValueKind.Object => "unexpected object",
                JsonValueKind.Array => "unexpected list",
                _ => $"unexpected value {raw}",
            };
        }

        return "has the wrong type";
    }

    /// <summary>The element at <c>spec.ports[0].number</c>, if the path can be followed.</summary>
    private static JsonElement? ValueAt(JsonElement root, string path)
    {
        var current = root;
        foreach (var segment in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = segment;
            var bracket = name.IndexOf('[', StringComparison.Ordinal);
            var indexes = bracket < 0 ? "" : name[bracket..];
            name = bracket < 0 ? name : name[..bracket];
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }

            foreach (var part in indexes.Split('[', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(part.TrimEnd(']'), out var i) || current.ValueKind != JsonValueKind.Array || i >= current.GetArrayLength())
                {
                    return null;
                }

                current = current[i];
            }
        }

        return current;
    }

    private static string? GetString(JsonElement json, string name)
    {
        if (!json.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return v.GetString();
        }
        catch (InvalidOperationException)
        {
            throw new DecodeException(name, BadText);
        }
    }

    /// <summary>What is said of a string that is not valid UTF-8, or has an escaped lone surrogate.</summary>
    internal const string BadText = "text that is not valid UTF-8 or UTF-16 (a lone surrogate)";
}

/// <summary>An object whose field has the wrong type; <see cref="Field"/> is its path (<c>spec.ports[0].number</c>).</summary>
public sealed class DecodeException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;

    /// <summary><c>spec.ports[0].number: expected an integer</c>.</summary>
    public string Describe() => Field.Length == 0 ? Message : $"{Field}: {Message}";
}
