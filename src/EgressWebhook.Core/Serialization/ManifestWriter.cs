using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EgressWebhook.Core.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace EgressWebhook.Core.Serialization;

/// <summary>Writes model objects as Kubernetes manifests (JSON or YAML ready for <c>kubectl apply -f -</c>).</summary>
/// <remarks>Output parses back through <see cref="ManifestReader"/> to the same objects. Empty lists and maps are left
/// out (Istio reads an absent field and an empty one alike), and so are the server-set metadata fields
/// (<c>resourceVersion</c>, <c>uid</c>, <c>generation</c>, <c>creationTimestamp</c>), which an apply must not carry.</remarks>
public static partial class ManifestWriter
{
    /// <summary>The object as a manifest: <c>apiVersion</c>, <c>kind</c>, <c>metadata</c>, then the rest, in that order.</summary>
    /// <exception cref="NotSupportedException">For a kind that is not written (mesh config, Gateway API routes).</exception>
    public static JsonObject ToJson(EgressObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var row = KindTable.Writer(obj.ResourceKind) ?? throw new NotSupportedException($"{obj.KindName} is not written as a manifest");
        var node = row.Write!(obj) as JsonObject ?? throw new InvalidOperationException("an object serializes to a JSON object");

        var result = new JsonObject
        {
            ["apiVersion"] = obj.ApiVersion.Length > 0 ? obj.ApiVersion : row.PreferredApiVersion,
            ["kind"] = obj.KindName,
        };
        if (node["metadata"] is JsonObject meta)
        {
            meta.Remove("resourceVersion");
            meta.Remove("uid");
            meta.Remove("generation");
            meta.Remove("creationTimestamp");
        }

        // metadata first, then spec and the rest as serialized; computed and server-owned members are dropped
        var members = node.OrderBy(p => p.Key == "metadata" ? 0 : 1).ToArray();
        node.Clear();
        foreach (var (key, value) in members)
        {
            if (key is "apiVersion" or "kind" or "resourceKind" || (key == "status" && obj is ServiceEntry))
            {
                continue;
            }

            result[key] = value;
        }

        Prune(result);
        return result;
    }

    /// <summary>Objects as a YAML stream, one document each, separated by <c>---</c>.</summary>
    public static string ToYaml(IEnumerable<EgressObject> objects) => ToYaml(objects.Select(ToJson));

    /// <summary>JSON documents as a YAML stream (block style; strings quoted where YAML would read them as another type).</summary>
    public static string ToYaml(IEnumerable<JsonNode> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(writer);
        emitter.Emit(new StreamStart());
        var first = true;
        foreach (var doc in documents)
        {
            emitter.Emit(new DocumentStart(null, null, isImplicit: first));
            first = false;
            Emit(emitter, doc);
            emitter.Emit(new DocumentEnd(isImplicit: true));
        }

        emitter.Emit(new StreamEnd());
        return writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>Removes nulls, empty lists and empty maps, depth first.</summary>
    private static bool Prune(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return true;
            case JsonObject obj:
                foreach (var (key, value) in obj.ToArray())
                {
                    if (Prune(value))
                    {
                        obj.Remove(key);
                    }
                }

                return obj.Count == 0;
            case JsonArray array:
                for (var i = array.Count - 1; i >= 0; i--)
                {
                    if (array[i] is null)
                    {
                        array.RemoveAt(i);
                    }
                    else
                    {
                        Prune(array[i]);
                    }
                }

                return array.Count == 0;
            default:
                return false;
        }
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, true, MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, true, SequenceStyle.Block));
                foreach (var item in array)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                EmitString(emitter, value.GetValue<string>());
                break;
            case JsonValue value:
                // numbers and booleans as JSON writes them, which YAML's core schema reads back as the same type
                emitter.Emit(new Scalar(null, null, value.ToJsonString(), ScalarStyle.Plain, true, false));
                break;
            default:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
        }
    }

    private static void EmitString(IEmitter emitter, string text)
    {
        var style = PlainSafe().IsMatch(text) && !LooksTyped().IsMatch(text) ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted;
        emitter.Emit(new Scalar(null, null, text, style, true, true));
    }

    /// <summary>Strings that stay strings unquoted: no indicator first, no <c>: </c> or <c> #</c> inside.</summary>
    [GeneratedRegex("^[A-Za-z0-9_./-][A-Za-z0-9_./:-]*$")]
    private static partial Regex PlainSafe();

    /// <summary>Plain scalars YAML 1.1 or 1.2 would read as null, a boolean or a number.</summary>
    [GeneratedRegex("^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|[-+]?[0-9._]+([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)|0x[0-9a-fA-F]+|0o[0-7]+|[0-9:]+)$|:$|^-$|^\\.$")]
    private static partial Regex LooksTyped();
}
