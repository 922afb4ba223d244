using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EgressWebhook.Core.Serialization;

/// <summary>Turns YAML documents into JSON, so that YAML and admission JSON share one decoder.</summary>
/// <remarks>Plain scalars follow the YAML 1.2 core schema (null, booleans, integers, floats); quoted
/// scalars are always strings. Aliases are expanded.</remarks>
public static partial class YamlJson
{
    /// <summary>Parses a YAML stream into one JSON document per YAML document (empty documents are dropped).</summary>
    /// <exception cref="ManifestException">On a YAML syntax error, with its line and column.</exception>
    public static IReadOnlyList<YamlDocumentJson> ParseDocuments(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ManifestException((int)ex.Start.Line, (int)ex.Start.Column, FirstLine(ex.InnerException?.Message ?? ex.Message));
        }

        var result = new List<YamlDocumentJson>(stream.Documents.Count);
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is YamlScalarNode { Value: null or "" } || IsNullScalar(doc.RootNode))
            {
                continue;
            }

            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                Write(writer, doc.RootNode, 0);
            }

            using var json = JsonDocument.Parse(buffer.WrittenMemory);
            result.Add(new YamlDocumentJson(json.RootElement.Clone(), (int)doc.RootNode.Start.Line));
        }

        return result;
    }

    private static bool IsNullScalar(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain } s && NullPattern().IsMatch(s.Value ?? "");

    private const int MaxDepth = 64;

    private static void Write(Utf8JsonWriter writer, YamlNode node, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ManifestException((int)node.Start.Line, (int)node.Start.Column, $"nesting deeper than {MaxDepth} levels");
        }

        switch (node)
        {
            case YamlMappingNode map:
                writer.WriteStartObject();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new ManifestException((int)key.Start.Line, (int)key.Start.Column, "mapping keys must be plain strings");
                    }

                    if (!seen.Add(name))
                    {
                        throw new ManifestException((int)key.Start.Line, (int)key.Start.Column, $"duplicate key '{name}'");
                    }

                    writer.WritePropertyName(name);
                    Write(writer, value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                writer.WriteStartArray();
                foreach (var item in seq.Children)
                {
                    Write(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                WriteScalar(writer, scalar);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain || !scalar.Tag.IsEmpty && scalar.Tag.Value == "tag:yaml.org,2002:str")
        {
            writer.WriteStringValue(text);
            return;
        }

        if (NullPattern().IsMatch(text))
        {
            writer.WriteNullValue();
        }
        else if (text is "true" or "True" or "TRUE")
        {
            writer.WriteBooleanValue(true);
        }
        else if (text is "false" or "False" or "FALSE")
        {
            writer.WriteBooleanValue(false);
        }
        else if (IntPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            writer.WriteNumberValue(l);
        }
        else if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            writer.WriteNumberValue(d);
        }
        else
        {
            writer.WriteStringValue(text);
        }
    }

    private static string FirstLine(string message)
    {
        var i = message.IndexOfAny(['\r', '\n']);
        return i < 0 ? message : message[..i];
    }

    [GeneratedRegex("^(~|null|Null|NULL|)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}

/// <summary>One YAML document as JSON, with the line it starts on.</summary>
public sealed record YamlDocumentJson(JsonElement Json, int Line);

/// <summary>Input that cannot be read as a manifest: a syntax error with its position.</summary>
public sealed class ManifestException(int line, int column, string message) : Exception(message)
{
    public int Line { get; } = line;

    public int Column { get; } = column;

    /// <summary><c>line L, column C: message</c>.</summary>
    public string Describe() => Line > 0 ? $"line {Line}, column {Column}: {Message}" : Message;
}
