using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace EgressWebhook.Core.Serialization;

/// <summary>Turns YAML documents into JSON, so that YAML and admission JSON share one decoder.</summary>
/// <remarks>Plain scalars follow the YAML 1.2 core schema (null, booleans, integers, floats); quoted
/// scalars are always strings. The text is read as a stream of parser events, with limits, so that hostile input
/// costs time and memory in proportion to its size: at most <see cref="MaxChars"/> characters, nesting at most
/// <see cref="MaxDepth"/> levels, and aliases expanded only while the JSON stays under <see cref="MaxExpansion"/>
/// times the size of the text (an alias bomb of a few hundred bytes would otherwise expand to gigabytes).</remarks>
public static partial class YamlJson
{
    /// <summary>Longest text read: above the API server's 3 MiB request limit, with room for state files.</summary>
    public const int MaxChars = 16 * 1024 * 1024;

    /// <summary>Deepest nesting of mappings and sequences.</summary>
    public const int MaxDepth = 64;

    /// <summary>The JSON of a text may be at most this many times its length (plus 64 KiB), aliases expanded; plain
    /// YAML turns into JSON of at most about 2.5 times its length.</summary>
    public const int MaxExpansion = 4;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = MaxDepth + 2 };

    /// <summary>Parses a YAML stream into one JSON document per YAML document (empty documents are dropped).</summary>
    /// <exception cref="ManifestException">On a YAML syntax error, with its line and column, or input past a limit.</exception>
    public static IReadOnlyList<YamlDocumentJson> ParseDocuments(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        if (yaml.Length > MaxChars)
        {
            throw new ManifestException(0, 0, $"{yaml.Length} characters is over the {MaxChars} character limit");
        }

        var result = new List<YamlDocumentJson>();
        var budget = (long)yaml.Length * MaxExpansion + 64 * 1024;
        try
        {
            var parser = new Parser(new StringReader(yaml));
            parser.Consume<StreamStart>();
            while (!parser.TryConsume<StreamEnd>(out _))
            {
                parser.Consume<DocumentStart>();
                var root = parser.Current!;
                if (root is Scalar scalar && (scalar.Value.Length == 0 || IsNullScalar(scalar)))
                {
                    parser.MoveNext();
                }
                else
                {
                    var document = new DocumentWriter(parser, budget);
                    var json = document.Write();
                    budget -= json.Length;
                    using var doc = JsonDocument.Parse(json, JsonOptions);
                    result.Add(new YamlDocumentJson(doc.RootElement.Clone(), (int)root.Start.Line));
                }

                parser.Consume<DocumentEnd>();
            }
        }
        catch (YamlException ex)
        {
            throw new ManifestException((int)ex.Start.Line, (int)ex.Start.Column, FirstLine(ex.InnerException?.Message ?? ex.Message));
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner gives up on some malformed input without a position
            throw new ManifestException(0, 0, $"not valid YAML ({FirstLine(ex.Message)})");
        }

        return result;
    }

    private static bool IsNullScalar(Scalar s) => s.Style == ScalarStyle.Plain && NullPattern().IsMatch(s.Value);

    /// <summary>Writes one document's node events as JSON; an anchored node's JSON is kept for its aliases.</summary>
    private sealed class DocumentWriter(Parser parser, long budget)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private readonly Dictionary<string, byte[]> _anchors = new(StringComparer.Ordinal);

        // JSON written plus anchored JSON kept: both count against the budget
        private long _kept;

        public ReadOnlyMemory<byte> Write()
        {
            using (var writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true }))
            {
                WriteNode(writer, 0);
            }

            return _buffer.WrittenMemory;
        }

        private void WriteNode(Utf8JsonWriter writer, int depth)
        {
            var node = parser.Current!;
            parser.MoveNext();
            if (node is AnchorAlias alias)
            {
                if (!_anchors.TryGetValue(alias.Value.Value, out var json))
                {
                    throw Error(node, $"alias *{alias.Value.Value} names no anchor defined before it");
                }

                writer.WriteRawValue(json, skipInputValidation: true);
                Spend(writer, node);
                return;
            }

            var anchor = node is NodeEvent { Anchor.IsEmpty: false } anchored ? anchored.Anchor.Value : null;
            var start = 0;
            if (anchor is not null)
            {
                writer.Flush();
                start = _buffer.WrittenCount;
            }

            switch (node)
            {
                case Scalar scalar:
                    WriteScalar(writer, scalar);
                    break;
                case SequenceStart:
                    Nest(node, depth);
                    writer.WriteStartArray();
                    while (parser.Current is not SequenceEnd)
                    {
                        WriteNode(writer, depth + 1);
                    }

                    parser.MoveNext();
                    writer.WriteEndArray();
                    break;
                case MappingStart:
                    Nest(node, depth);
                    writer.WriteStartObject();
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    while (parser.Current is not MappingEnd)
                    {
                        var key = parser.Current!;
                        if (key is not Scalar { Value: var name })
                        {
                            throw Error(key, "mapping keys must be plain strings");
                        }

                        if (!seen.Add(name))
                        {
                            throw Error(key, $"duplicate key '{Short(name)}'");
                        }

                        parser.MoveNext();
                        writer.WritePropertyName(name);
                        WriteNode(writer, depth + 1);
                    }

                    parser.MoveNext();
                    writer.WriteEndObject();
                    break;
                default:
                    throw Error(node, $"unexpected {node.GetType().Name}");
            }

            Spend(writer, node);
            if (anchor is not null)
            {
                writer.Flush();
                var json = _buffer.WrittenSpan[start..];

                // an array element after the first is written with its separator
                if (json.Length > 0 && json[0] == (byte)',')
                {
                    json = json[1..];
                }

                _kept += json.Length;
                _anchors[anchor] = json.ToArray();
                Spend(writer, node);
            }
        }

        private static void Nest(ParsingEvent node, int depth)
        {
            if (depth >= MaxDepth)
            {
                throw Error(node, $"nesting deeper than {MaxDepth} levels");
            }
        }

        private void Spend(Utf8JsonWriter writer, ParsingEvent node)
        {
            if (writer.BytesCommitted + writer.BytesPending + _kept > budget)
            {
                throw Error(node, $"the document expands to more than {budget} bytes of JSON (aliases expanded); refused");
            }
        }

        private static ManifestException Error(ParsingEvent node, string message) =>
            new((int)node.Start.Line, (int)node.Start.Column, message);
    }

    private static string Short(string s) => s.Length <= 64 ? s : string.Concat(s.AsSpan(0, 63), "…");

    private static void WriteScalar(Utf8JsonWriter writer, Scalar scalar)
    {
        var text = scalar.Value;
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
