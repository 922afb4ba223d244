using System.Text.Json;

namespace EgressWebhook.Deploy.Tests.Infrastructure;

/// <summary>Null-tolerant navigation of rendered Kubernetes objects.</summary>
public static class Json
{
    /// <summary>The element at <paramref name="path"/> (object property names), or null when any step is missing.</summary>
    public static JsonElement? At(this JsonElement element, params string[] path)
    {
        var current = element;
        foreach (var name in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }
        }

        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    public static string? Str(this JsonElement element, params string[] path) =>
        element.At(path) is { } value ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText() : null;

    public static bool? Bool(this JsonElement element, params string[] path) =>
        element.At(path) is { ValueKind: JsonValueKind.True or JsonValueKind.False } value ? value.GetBoolean() : null;

    public static long? Int(this JsonElement element, params string[] path) =>
        element.At(path) is { ValueKind: JsonValueKind.Number } value ? value.GetInt64() : null;

    /// <summary>The items of the array at <paramref name="path"/>, or none.</summary>
    public static IReadOnlyList<JsonElement> Items(this JsonElement element, params string[] path) =>
        element.At(path) is { ValueKind: JsonValueKind.Array } value ? [.. value.EnumerateArray()] : [];

    public static IReadOnlyList<string> Strings(this JsonElement element, params string[] path) =>
        [.. element.Items(path).Select(i => i.GetString() ?? "")];

    /// <summary>A string map such as labels or ConfigMap data (non-string values as their JSON text).</summary>
    public static IReadOnlyDictionary<string, string> Map(this JsonElement element, params string[] path) =>
        element.At(path) is { ValueKind: JsonValueKind.Object } value
            ? value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText(), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
}
