using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EgressWebhook.Core.Trace;

/// <summary>How a trace is written: a text tree for people, JSON for tools
/// (<c>{"from","host","port","end","via":[...],"hops":[{"kind","namespace","name","field","note"}],"reason"}</c>).</summary>
public static class TraceFormat
{
    /// <summary>The trace as a tree: one line per hop, the hops inside a gateway indented under it, the end last.</summary>
    public static string Text(EgressTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var sb = new StringBuilder();
        sb.Append(trace.From).Append(" → ").Append(trace.Host).Append(':').Append(trace.Port).Append('\n');
        var hops = trace.Hops;
        for (var i = 0; i < hops.Count; i++)
        {
            var hop = hops[i];
            for (var level = 0; level < hop.Depth; level++)
            {
                sb.Append(Continues(hops, i, level) ? "│  " : "   ");
            }

            sb.Append(Continues(hops, i, hop.Depth) ? "├─ " : "└─ ").Append(hop.Object);
            if (hop.Field.Length > 0)
            {
                sb.Append(" [").Append(hop.Field).Append(']');
            }

            sb.Append(": ").Append(hop.Note).Append('\n');
        }

        sb.Append("└─ ").Append(trace.EndName);
        if (trace.Via.Count > 0)
        {
            sb.Append(" via ").Append(string.Join(", ", trace.Via));
        }
        else if (trace.End == TraceEnd.External)
        {
            sb.Append(" direct");
        }

        sb.Append(": ").Append(trace.Reason).Append('\n');
        return sb.ToString();
    }

    /// <summary>Whether a later hop (or the end line, at level 0) sits at <paramref name="level"/> before the tree leaves it.</summary>
    private static bool Continues(IReadOnlyList<TraceHop> hops, int index, int level)
    {
        if (level == 0)
        {
            return true;
        }

        for (var j = index + 1; j < hops.Count; j++)
        {
            if (hops[j].Depth == level)
            {
                return true;
            }

            if (hops[j].Depth < level)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>The trace as JSON (indented with <c>\n</c> line ends when <paramref name="indented"/>).</summary>
    public static string Json(EgressTrace trace, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(trace);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, trace);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes one trace object.</summary>
    public static void Write(Utf8JsonWriter writer, EgressTrace trace)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(trace);
        writer.WriteStartObject();
        writer.WriteString("from", trace.From);
        writer.WriteString("host", trace.Host);
        writer.WriteNumber("port", trace.Port);
        writer.WriteString("end", trace.EndName);
        writer.WriteStartArray("via");
        foreach (var v in trace.Via)
        {
            writer.WriteStringValue(v);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("hops");
        foreach (var hop in trace.Hops)
        {
            writer.WriteStartObject();
            writer.WriteString("kind", hop.Kind);
            writer.WriteString("namespace", hop.Namespace);
            writer.WriteString("name", hop.Name);
            writer.WriteString("field", hop.Field);
            writer.WriteString("note", hop.Note);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("reason", trace.Reason);
        writer.WriteEndObject();
    }
}
