using System.Text.Json;

namespace EgressWebhook.Deploy.Tests.Infrastructure;

/// <summary>Evaluates a Kubernetes label selector (matchLabels + matchExpressions) the way the API server does.</summary>
public static class LabelSelector
{
    public static bool Matches(JsonElement? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is not { ValueKind: JsonValueKind.Object } s)
        {
            return true; // an absent selector selects everything
        }

        foreach (var (key, value) in s.Map("matchLabels"))
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var expression in s.Items("matchExpressions"))
        {
            var key = expression.Str("key")!;
            var values = expression.Strings("values");
            var has = labels.TryGetValue(key, out var actual);
            var ok = expression.Str("operator") switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                var op => throw new Xunit.Sdk.XunitException($"unknown selector operator {op}"),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The labels the API server puts on every Namespace.</summary>
    public static IReadOnlyDictionary<string, string> NamespaceLabels(string name) =>
        new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = name };
}
