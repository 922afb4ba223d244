using System.Text.Json;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Serialization;

/// <summary>Reads manifest text (YAML or JSON, multi-document, <c>kind: List</c>) into model objects.</summary>
public static class ManifestReader
{
    /// <summary>Decodes every document; unknown kinds are skipped.</summary>
    /// <param name="text">YAML or JSON.</param>
    /// <param name="defaultNamespace">Namespace for objects without one (<c>default</c> offline).</param>
    /// <exception cref="ManifestException">Syntax error, or an object with a field of the wrong type (with its line).</exception>
    public static IReadOnlyList<EgressObject> Read(string text, string defaultNamespace = "default")
    {
        var result = new List<EgressObject>();
        foreach (var doc in YamlJson.ParseDocuments(text))
        {
            DecodeInto(doc.Json, doc.Line, defaultNamespace, result);
        }

        return result;
    }

    private static void DecodeInto(JsonElement json, int line, string defaultNamespace, List<EgressObject> result)
    {
        if (json.ValueKind == JsonValueKind.Object &&
            json.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String &&
            kind.GetString() is { } k && k.EndsWith("List", StringComparison.Ordinal) &&
            json.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                DecodeInto(item, line, defaultNamespace, result);
            }

            return;
        }

        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new ManifestException(line, 1, "a document must be a mapping (an object)");
        }

        try
        {
            if (ObjectDecoder.Decode(json, defaultNamespace) is { } obj)
            {
                result.Add(obj);
            }
        }
        catch (DecodeException ex)
        {
            throw new ManifestException(line, 1, $"{Describe(json)}: {ex.Describe()}");
        }
    }

    private static string Describe(JsonElement json)
    {
        var kind = json.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : "object";
        var name = json.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object &&
                   m.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return name is null ? kind ?? "object" : $"{kind} {name}";
    }
}
