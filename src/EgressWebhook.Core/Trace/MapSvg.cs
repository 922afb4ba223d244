using System.Globalization;
using System.Xml.Linq;

namespace EgressWebhook.Core.Trace;

/// <summary>The egress map drawn as SVG 1.1 by the project itself (no Graphviz): a deterministic layered layout.</summary>
public static partial class MapFormat
{
    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";

    private const double RowHeight = 64;
    private const double NodeHeight = 36;
    private const double Margin = 24;
    private const double ColumnGap = 140;
    private const double CharWidth = 7.2;
    private const string Font = "font-family:sans-serif;font-size:12px";

    /// <summary>SVG 1.1: three columns left to right (client namespaces | gateways | external hosts), nodes in id order
    /// top to bottom (namespaces as rectangles, gateways as diamonds, hosts as ellipses), each link a curve with its label
    /// (a link within one column, gateway to gateway, bends out to the right). Passthrough links dotted; broken links
    /// (blackhole, dropped, loop) dashed, red and bold. Each node and link carries a <c>title</c> (node id;
    /// <c>from -&gt; to</c>) so that it can be found again. The same map gives the same bytes.</summary>
    public static string Svg(EgressMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var columns = new[] { MapNodeKind.Namespace, MapNodeKind.Gateway, MapNodeKind.Host }
            .Select(k => map.Nodes.Where(n => n.Kind == k || (k == MapNodeKind.Gateway && n.Kind == MapNodeKind.Waypoint)).ToList()).ToArray();
        var widths = columns.Select(c => c.Count == 0 ? 60 : c.Max(n => n.Label.Length) * CharWidth + 32).ToArray();
        var x = new double[3];
        for (var i = 1; i < 3; i++)
        {
            x[i] = x[i - 1] + widths[i - 1] + ColumnGap;
        }

        var place = new Dictionary<string, (double Cx, double Cy, double W)>(StringComparer.Ordinal);
        for (var c = 0; c < 3; c++)
        {
            for (var r = 0; r < columns[c].Count; r++)
            {
                place[columns[c][r].Id] = (Margin + x[c] + widths[c] / 2, Margin + r * RowHeight + NodeHeight / 2, widths[c]);
            }
        }

        var width = Margin * 2 + x[2] + widths[2] + 60;
        var height = Margin * 2 + Math.Max(1, columns.Max(c => c.Count)) * RowHeight;
        var svg = new XElement(SvgNs + "svg",
            new XAttribute("version", "1.1"),
            new XAttribute("width", N(width)),
            new XAttribute("height", N(height)),
            new XAttribute("viewBox", $"0 0 {N(width)} {N(height)}"),
            new XElement(SvgNs + "title", "egress map"),
            new XElement(SvgNs + "defs", Arrow("arrow", "#333333"), Arrow("arrow-broken", "#cc0000")));

        var edges = new XElement(SvgNs + "g", new XAttribute("class", "edges"));
        foreach (var e in map.Edges)
        {
            if (!place.TryGetValue(e.From, out var from) || !place.TryGetValue(e.To, out var to))
            {
                continue;
            }

            var broken = e.Last && e.Broken;
            var passthrough = e.Last && e.End == TraceEnd.Passthrough;
            var (x1, y1) = (from.Cx + from.W / 2, from.Cy);
            string d;
            double lx, ly;
            if (to.Cx > from.Cx)
            {
                var (x2, y2) = (to.Cx - to.W / 2, to.Cy);
                var bend = (x2 - x1) / 2;
                d = $"M {N(x1)} {N(y1)} C {N(x1 + bend)} {N(y1)} {N(x2 - bend)} {N(y2)} {N(x2)} {N(y2)}";
                (lx, ly) = ((x1 + x2) / 2, (y1 + y2) / 2 - 4);
            }
            else
            {
                // same column (or back): out of the right side and into the right side of the target
                var (x2, y2) = (to.Cx + to.W / 2, to.Cy);
                var reach = Math.Max(x1, x2) + 50;
                d = $"M {N(x1)} {N(y1)} C {N(reach)} {N(y1)} {N(reach)} {N(y2)} {N(x2)} {N(y2)}";
                (lx, ly) = (reach + 4, (y1 + y2) / 2);
            }

            var style = broken ? "fill:none;stroke:#cc0000;stroke-width:2;stroke-dasharray:6,4"
                : passthrough ? "fill:none;stroke:#333333;stroke-width:1.2;stroke-dasharray:2,3"
                : "fill:none;stroke:#333333;stroke-width:1.2";
            var g = new XElement(SvgNs + "g", new XAttribute("class", broken ? "edge broken" : passthrough ? "edge passthrough" : "edge"),
                new XElement(SvgNs + "title", $"{e.From} -> {e.To}"),
                new XElement(SvgNs + "path", new XAttribute("d", d), new XAttribute("style", style),
                    new XAttribute("marker-end", broken ? "url(#arrow-broken)" : "url(#arrow)")));
            if (e.Label.Length > 0)
            {
                g.Add(new XElement(SvgNs + "text", new XAttribute("x", N(lx)), new XAttribute("y", N(ly)),
                    new XAttribute("text-anchor", to.Cx > from.Cx ? "middle" : "start"),
                    new XAttribute("style", Font + (broken ? ";fill:#cc0000" : ";fill:#333333")), e.Label));
            }

            edges.Add(g);
        }

        var nodes = new XElement(SvgNs + "g", new XAttribute("class", "nodes"));
        foreach (var n in map.Nodes)
        {
            var (cx, cy, w) = place[n.Id];
            var h = NodeHeight;
            XElement shape = n.Kind switch
            {
                MapNodeKind.Namespace => new XElement(SvgNs + "rect", new XAttribute("x", N(cx - w / 2)), new XAttribute("y", N(cy - h / 2)),
                    new XAttribute("width", N(w)), new XAttribute("height", N(h)), new XAttribute("rx", "4")),
                MapNodeKind.Gateway or MapNodeKind.Waypoint => new XElement(SvgNs + "polygon",
                    new XAttribute("points", $"{N(cx - w / 2)},{N(cy)} {N(cx)},{N(cy - h / 2)} {N(cx + w / 2)},{N(cy)} {N(cx)},{N(cy + h / 2)}")),
                _ => new XElement(SvgNs + "ellipse", new XAttribute("cx", N(cx)), new XAttribute("cy", N(cy)), new XAttribute("rx", N(w / 2)), new XAttribute("ry", N(h / 2))),
            };
            shape.Add(new XAttribute("style", n.Kind switch
            {
                MapNodeKind.Namespace => "fill:#e8f0fe;stroke:#3367d6",
                MapNodeKind.Gateway or MapNodeKind.Waypoint => "fill:#fef7e0;stroke:#b06000",
                _ => "fill:#e6f4ea;stroke:#137333",
            }));
            nodes.Add(new XElement(SvgNs + "g", new XAttribute("class", "node " + n.Kind.ToString().ToLowerInvariant()),
                new XElement(SvgNs + "title", n.Id),
                shape,
                new XElement(SvgNs + "text", new XAttribute("x", N(cx)), new XAttribute("y", N(cy + 4)), new XAttribute("text-anchor", "middle"),
                    new XAttribute("style", Font + ";fill:#202124"), n.Label)));
        }

        svg.Add(edges, nodes);
        return new XDocument(new XDeclaration("1.0", "UTF-8", null), svg).Declaration + "\n" + svg.ToString(SaveOptions.None) + "\n";
    }

    private static XElement Arrow(string id, string color) =>
        new(SvgNs + "marker", new XAttribute("id", id), new XAttribute("viewBox", "0 0 10 10"), new XAttribute("refX", "10"), new XAttribute("refY", "5"),
            new XAttribute("markerWidth", "8"), new XAttribute("markerHeight", "8"), new XAttribute("orient", "auto"),
            new XElement(SvgNs + "path", new XAttribute("d", "M 0 0 L 10 5 L 0 10 z"), new XAttribute("style", "fill:" + color)));

    private static string N(double value) => Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);
}
