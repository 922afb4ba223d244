using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cel;
using EgressWebhook.Core.Serialization;
using Json.Schema;

namespace EgressWebhook.Cli.Tests;

/// <summary>Istio's CRDs (<c>../shared/istio-crds</c>, read at test time) as the API server applies them to a write:
/// the version's OpenAPI v3 schema (JsonSchema.Net), fields the schema does not know (pruned by the API server, an
/// error under strict field validation), and every <c>x-kubernetes-validations</c> CEL rule on the fields present
/// (Cel; transition rules with <c>oldSelf</c> do not apply to a create).</summary>
internal sealed class IstioCrdSchemas
{
    private static readonly ConcurrentDictionary<string, IstioCrdSchemas> Loaded = new(StringComparer.Ordinal);

    private readonly Dictionary<(string Kind, string Version), Lazy<(JsonSchema Schema, JsonNode Raw)>> _schemas = [];
    private readonly CelEnvironment _cel = new(null, null);
    private readonly ConcurrentDictionary<string, Func<IDictionary<string, object?>, object?>> _rules = new(StringComparer.Ordinal);

    private readonly string _group;

    private IstioCrdSchemas(string file, string path, string group)
    {
        File = file;
        _group = group;
        foreach (var doc in YamlJson.ParseDocuments(System.IO.File.ReadAllText(path)))
        {
            var crd = JsonNode.Parse(doc.Json.GetRawText())!;
            if (crd["kind"]?.GetValue<string>() != "CustomResourceDefinition" || crd["spec"]?["group"]?.GetValue<string>() != group)
            {
                continue;
            }

            var kind = crd["spec"]!["names"]!["kind"]!.GetValue<string>();
            foreach (var version in crd["spec"]!["versions"]!.AsArray())
            {
                var name = version!["name"]!.GetValue<string>();
                var raw = version["schema"]!["openAPIV3Schema"]!;
                // built when first asked for; the Kubernetes extensions (x-kubernetes-*, nullable) are not JSON Schema
                // keywords: Walk applies them
                var uri = new Uri($"https://crds.test/{file}/{kind}/{name}");
                _schemas[(kind, name)] = new Lazy<(JsonSchema, JsonNode)>(() => (JsonSchema.FromText(WithoutExtensions(raw.DeepClone()).ToJsonString(), baseUri: uri), raw));
            }
        }
    }

    /// <summary><c>../shared</c> beside the repository (the test assembly's metadata, as every test project sets it).</summary>
    private static string SharedRoot => typeof(IstioCrdSchemas).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .OfType<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "SharedRoot").Value!;

    /// <summary>The file's name (e.g. <c>crd-all.istio-1.24.yaml</c>).</summary>
    public string File { get; }

    /// <summary>The kinds the file defines.</summary>
    public IEnumerable<string> Kinds => _schemas.Keys.Select(k => k.Kind).Distinct();

    public static IstioCrdSchemas Load(string file) => Loaded.GetOrAdd(file, f => new IstioCrdSchemas(f, Path.Combine(SharedRoot, "istio-crds", f), "networking.istio.io"));

    /// <summary>The CRDs of <paramref name="group"/> in the file at <paramref name="path"/> (the project's own, deploy/crds).</summary>
    public static IstioCrdSchemas LoadFile(string path, string group) => Loaded.GetOrAdd(path, p => new IstioCrdSchemas(Path.GetFileName(p), p, group));

    /// <summary>What the API server would refuse (or silently drop) of <paramref name="obj"/>; empty when it stores it as is.</summary>
    public IReadOnlyList<string> Validate(JsonObject obj)
    {
        var apiVersion = obj["apiVersion"]?.GetValue<string>() ?? "";
        var kind = obj["kind"]?.GetValue<string>() ?? "";
        var version = apiVersion.StartsWith(_group + "/", StringComparison.Ordinal) ? apiVersion[(_group.Length + 1)..] : "";
        if (!_schemas.TryGetValue((kind, version), out var lazy))
        {
            return [$"{File}: no CRD serves {kind} at {apiVersion}"];
        }

        var entry = lazy.Value;
        var errors = new List<string>();
        using var doc = JsonDocument.Parse(obj.ToJsonString());
        // the fast flag answer first, the details only for an invalid object
        if (!entry.Schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Flag }).IsValid)
        {
            var result = entry.Schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            foreach (var detail in (result.Details ?? []).Prepend(result).Where(d => d.Errors is { Count: > 0 }))
            {
                errors.AddRange(detail.Errors!.Select(e => $"{detail.InstanceLocation}: {e.Key}: {e.Value}"));
            }

            if (errors.Count == 0)
            {
                errors.Add("schema: invalid");
            }
        }

        // numbers as the API server reads them (JSON), whatever CLR type built the node; the API server itself handles
        // apiVersion, kind and metadata, which the CRD schema does not list
        var normalized = (JsonObject)JsonNode.Parse(obj.ToJsonString())!;
        normalized.Remove("apiVersion");
        normalized.Remove("kind");
        normalized.Remove("metadata");
        Walk(entry.Raw, normalized, "", errors);
        return errors.Select(e => $"{File} {kind}: {e}").ToList();
    }

    /// <summary>Unknown fields and CEL rules, through the schema and the instance together.</summary>
    private void Walk(JsonNode schema, JsonNode? value, string path, List<string> errors)
    {
        if (value is null)
        {
            return;
        }

        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            foreach (var rule in rules)
            {
                var expression = rule!["rule"]!.GetValue<string>();
                if (expression.Contains("oldSelf", StringComparison.Ordinal))
                {
                    continue;
                }

                object? outcome;
                try
                {
                    outcome = Compile(expression)(new Dictionary<string, object?> { ["self"] = ToCel(value) });
                }
                catch (Exception ex)
                {
                    errors.Add($"{path}: CEL rule {expression} could not be evaluated: {ex.Message}");
                    continue;
                }

                if (outcome is not true)
                {
                    errors.Add($"{path}: {rule["message"]?.GetValue<string>() ?? "CEL rule failed"} ({expression})");
                }
            }
        }

        switch (value)
        {
            case JsonObject o when schema["properties"] is JsonObject properties:
                var open = schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true || schema["additionalProperties"] is not null;
                foreach (var (key, child) in o)
                {
                    if (properties[key] is { } sub)
                    {
                        Walk(sub, child, $"{path}.{key}", errors);
                    }
                    else if (!open)
                    {
                        errors.Add($"{path}.{key}: unknown field (the API server drops it)");
                    }
                }

                break;
            case JsonObject o when schema["additionalProperties"] is JsonObject values:
                foreach (var (key, child) in o)
                {
                    Walk(values, child, $"{path}.{key}", errors);
                }

                break;
            case JsonArray a when schema["items"] is { } items:
                for (var i = 0; i < a.Count; i++)
                {
                    Walk(items, a[i], $"{path}[{i}]", errors);
                }

                break;
        }
    }

    private static JsonNode WithoutExtensions(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    // keys under "properties" are field names, not keywords
                    if (key.StartsWith("x-kubernetes-", StringComparison.Ordinal) || (key == "nullable" && o[key] is JsonValue))
                    {
                        o.Remove(key);
                    }
                    else if (o[key] is { } child)
                    {
                        WithoutExtensions(child);
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a.OfType<JsonNode>())
                {
                    WithoutExtensions(item);
                }

                break;
        }

        return node;
    }

    private Func<IDictionary<string, object?>, object?> Compile(string expression) =>
        _rules.GetOrAdd(expression, e =>
        {
            lock (_cel)
            {
                var program = _cel.Compile(e);
                return variables => program.Invoke(variables);
            }
        });

    private static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToCel(p.Value)),
        JsonArray a => a.Select(ToCel).ToList(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.TryGetValue<long>(out var l) ? l : (object)v.GetValue<double>(),
        _ => node.ToJsonString(),
    };
}
