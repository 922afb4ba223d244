using System.Text;

namespace EgressWebhook.Core.Trace;

/// <summary>The egress map as Graphviz DOT or a mermaid flowchart: namespaces as folders, gateways as diamonds, waypoints
/// as hexagons, external hosts as ellipses; passthrough links dashed, broken links (blackhole, dropped, loop, a bypassed
/// waypoint) red and bold.</summary>
public static partial class MapFormat
{
    /// <summary>Graphviz DOT (<c>dot -Tsvg</c> draws it).</summary>
    public static string Dot(EgressMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var sb = new StringBuilder();
        sb.Append("digraph egress {\n  rankdir=LR;\n");
        foreach (var n in map.Nodes)
        {
            var shape = n.Kind switch { MapNodeKind.Namespace => "folder", MapNodeKind.Gateway => "diamond", MapNodeKind.Waypoint => "hexagon", _ => "ellipse" };
            sb.Append("  ").Append(Quote(n.Id)).Append(" [label=").Append(Quote(n.Label)).Append(", shape=").Append(shape).Append("];\n");
        }

        foreach (var e in map.Edges)
        {
            sb.Append("  ").Append(Quote(e.From)).Append(" -> ").Append(Quote(e.To)).Append(" [label=").Append(Quote(e.Label));
            if (e.Last && e.Broken)
            {
                sb.Append(", color=red, fontcolor=red, penwidth=2");
            }
            else if (e.Last && e.End == TraceEnd.Passthrough)
            {
                sb.Append(", style=dashed");
            }

            sb.Append("];\n");
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>A mermaid flowchart (GitHub renders it in Markdown).</summary>
    public static string Mermaid(EgressMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var ids = map.Nodes.Select((n, i) => (n.Id, Short: $"n{i}")).ToDictionary(p => p.Id, p => p.Short, StringComparer.Ordinal);
        var sb = new StringBuilder("flowchart LR\n");
        foreach (var n in map.Nodes)
        {
            var label = MermaidText(n.Label);
            sb.Append("  ").Append(ids[n.Id]).Append(n.Kind switch
            {
                MapNodeKind.Namespace => $"[\"{label}\"]",
                MapNodeKind.Gateway => $"{{\"{label}\"}}",
                MapNodeKind.Waypoint => $"{{{{\"{label}\"}}}}",
                _ => $"([\"{label}\"])",
            }).Append('\n');
        }

        var broken = new List<int>();
        for (var i = 0; i < map.Edges.Count; i++)
        {
            var e = map.Edges[i];
            var arrow = e.Last && e.End == TraceEnd.Passthrough ? "-.->" : "-->";
            sb.Append("  ").Append(ids[e.From]).Append(' ').Append(arrow);
            if (e.Label.Length > 0)
            {
                sb.Append("|\"").Append(MermaidText(e.Label)).Append("\"|");
            }

            sb.Append(' ').Append(ids[e.To]).Append('\n');
            if (e.Last && e.Broken)
            {
                broken.Add(i);
            }
        }

        if (broken.Count > 0)
        {
            sb.Append("  linkStyle ").Append(string.Join(",", broken)).Append(" stroke:red,stroke-width:2px\n");
        }

        return sb.ToString();
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string MermaidText(string s) => s.Replace("\"", "#quot;", StringComparison.Ordinal);
}
