using System.Text.RegularExpressions;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Core.Tests.Trace;

public sealed partial class EgressMapTests
{
    /// <summary>The edges of a DOT graph, parsed back: (from, to, attributes).</summary>
    private static List<(string From, string To, string Attributes)> DotEdges(string dot) =>
        EdgeLine().Matches(dot).Select(m => (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value)).ToList();

    [Fact]
    public void Dot_Seed_ParsesBackToTheSeedsPaths()
    {
        var dot = MapFormat.Dot(EgressMap.Build(EgressSnapshot.Create(Seed.Objects())));

        Assert.StartsWith("digraph egress {\n", dot, StringComparison.Ordinal);
        Assert.EndsWith("}\n", dot, StringComparison.Ordinal);
        var nodes = NodeLine().Matches(dot).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(
            [("gw:default/istio-egressgateway", "diamond"), ("host:edition.cnn.com", "ellipse"), ("host:google.com", "ellipse"), ("ns:default", "folder")],
            nodes);
        Assert.Equal(
            [
                ("gw:default/istio-egressgateway", "host:edition.cnn.com", "label=\"external\""),
                ("ns:default", "gw:default/istio-egressgateway", "label=\"edition.cnn.com:443\""),
                ("ns:default", "host:google.com", "label=\"google.com:443 external\""),
            ],
            DotEdges(dot));
    }

    [Fact]
    public void Dot_SeedWithoutGatewayLeg_MarksTheBrokenLinkRed()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "egressgateway-to-external" });

        var edges = DotEdges(MapFormat.Dot(EgressMap.Build(EgressSnapshot.Create(objects))));

        var broken = Assert.Single(edges, e => e.Attributes.Contains("color=red", StringComparison.Ordinal));
        Assert.Equal(("gw:default/istio-egressgateway", "host:edition.cnn.com"), (broken.From, broken.To));
        Assert.Contains("label=\"dropped\"", broken.Attributes, StringComparison.Ordinal);
    }

    [Fact]
    public void Dot_UnregisteredMeshRouteUnderAllowAny_IsDashedPassthrough()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is MeshConfig || o is ServiceEntry { Name: "cnn" });

        var edges = DotEdges(MapFormat.Dot(EgressMap.Build(EgressSnapshot.Create(objects))));

        var passthrough = Assert.Single(edges, e => e.To == "host:edition.cnn.com");
        Assert.Equal("ns:default", passthrough.From);
        Assert.Contains("style=dashed", passthrough.Attributes, StringComparison.Ordinal);
    }

    [Fact]
    public void Mermaid_Seed_IsAFlowchartWithEveryEdge()
    {
        var map = EgressMap.Build(EgressSnapshot.Create(Seed.Objects()));

        var mermaid = MapFormat.Mermaid(map);

        Assert.StartsWith("flowchart LR\n", mermaid, StringComparison.Ordinal);
        Assert.Equal(map.Edges.Count, mermaid.Split('\n').Count(l => l.Contains("-->", StringComparison.Ordinal) || l.Contains("-.->", StringComparison.Ordinal)));
    }

    /// <summary>The map of corpus ambient files (a name) or edited texts of them (YAML, several lines).</summary>
    private static EgressMap AmbientMap(params string[] files) =>
        EgressMap.Build(EgressSnapshot.Create(files.SelectMany(f => ManifestReader.Read(f.Contains('\n', StringComparison.Ordinal)
            ? f : File.ReadAllText(Path.Combine(TestPaths.Corpus, "ambient", f))))));

    private static string Edited(string file, string from, string to)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.Corpus, "ambient", file));
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    /// <summary>ambient/01: both ambient namespaces (default, the walkthrough's client, and istio-egress, the entry's) reach
    /// httpbin.org through the waypoint, drawn as a hexagon.</summary>
    [Fact]
    public void Dot_AmbientEgressWalkthrough_GoesThroughTheWaypoint()
    {
        var dot = MapFormat.Dot(AmbientMap("01-egress-waypoint-se-httpbin.yaml"));

        var nodes = NodeLine().Matches(dot).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(
            [("host:httpbin.org", "ellipse"), ("ns:default", "folder"), ("ns:istio-egress", "folder"), ("wp:istio-egress/waypoint", "hexagon")],
            nodes);
        Assert.Contains("label=\"waypoint istio-egress/waypoint\"", dot, StringComparison.Ordinal);
        Assert.Equal(
            [
                ("ns:default", "wp:istio-egress/waypoint", "label=\"httpbin.org:80\""),
                ("ns:istio-egress", "wp:istio-egress/waypoint", "label=\"httpbin.org:80\""),
                ("wp:istio-egress/waypoint", "host:httpbin.org", "label=\"external\""),
            ],
            DotEdges(dot));
    }

    /// <summary>ambient/01 with the waypoint renamed away: the label stays, istiod binds nothing, ztunnel goes straight out.</summary>
    [Fact]
    public void Dot_AmbientLabelWithoutItsWaypoint_IsADirectBrokenLink()
    {
        var map = AmbientMap(Edited("01-egress-waypoint-se-httpbin.yaml", "  name: waypoint\n  namespace: istio-egress", "  name: egress\n  namespace: istio-egress"));

        var edges = DotEdges(MapFormat.Dot(map));

        Assert.DoesNotContain(map.Nodes, n => n.Kind == MapNodeKind.Waypoint);
        Assert.Equal(["ns:default", "ns:istio-egress"], edges.Select(e => e.From));
        Assert.All(edges, e =>
        {
            Assert.Equal("host:httpbin.org", e.To);
            Assert.Contains("label=\"httpbin.org:80 external, bypasses waypoint istio-egress/waypoint\"", e.Attributes, StringComparison.Ordinal);
            Assert.Contains("color=red", e.Attributes, StringComparison.Ordinal);
        });
    }

    /// <summary>Near miss: an ambient entry that asks for no waypoint goes direct and is not broken.</summary>
    [Fact]
    public void Dot_AmbientEntryWithoutWaypointLabel_IsDirectNotBroken()
    {
        var map = AmbientMap(Edited("01-egress-waypoint-se-httpbin.yaml", "    istio.io/use-waypoint: waypoint\n", ""));

        Assert.All(map.Edges, e => Assert.False(e.Broken));
        Assert.All(map.Edges, e => Assert.Equal("host:httpbin.org", e.To));
    }

    /// <summary>ambient/00's NAMESPACE default visibility hides istio-egress's entry from default: only istio-egress is a client.</summary>
    [Fact]
    public void Build_NamespaceVisibleAmbientEntry_HasOnlyItsOwnNamespaceAsClient()
    {
        var map = AmbientMap("00-meshconfig-serviceentry-visibility.yaml", "01-egress-waypoint-se-httpbin.yaml");

        Assert.Equal(["istio-egress"], map.Traces.Select(t => t.From));
    }

    [Fact]
    public void Mermaid_AmbientWalkthroughAndBypass_DrawsTheWaypointAsHexagonAndTheBypassRed()
    {
        var bound = MapFormat.Mermaid(AmbientMap("01-egress-waypoint-se-httpbin.yaml"));
        var bypass = MapFormat.Mermaid(AmbientMap(Edited("01-egress-waypoint-se-httpbin.yaml", "istio.io/waypoint-for: service", "istio.io/waypoint-for: workload")));

        Assert.Contains("{{\"waypoint istio-egress/waypoint\"}}", bound, StringComparison.Ordinal);
        Assert.DoesNotContain("linkStyle", bound, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", bypass, StringComparison.Ordinal);
        Assert.Contains("bypasses waypoint istio-egress/waypoint", bypass, StringComparison.Ordinal);
        Assert.Contains("  linkStyle 0,1 stroke:red,stroke-width:2px\n", bypass, StringComparison.Ordinal);
    }

    private static readonly System.Xml.Linq.XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>The SVG parsed back as XML: (class, title) of every node and link group, and the document.</summary>
    private static (List<(string Class, string Title)> Groups, System.Xml.Linq.XDocument Doc) SvgGroups(string svg)
    {
        var doc = System.Xml.Linq.XDocument.Parse(svg);
        var groups = doc.Descendants(Svg + "g")
            .Where(g => g.Attribute("class")?.Value is { } c && (c.StartsWith("node ", StringComparison.Ordinal) || c.StartsWith("edge ", StringComparison.Ordinal) || c == "edge"))
            .Select(g => (g.Attribute("class")!.Value, g.Element(Svg + "title")!.Value)).ToList();
        return (groups, doc);
    }

    [Fact]
    public void Svg_Seed_IsSvg11_WithEveryNodeAndLinkOfTheMap_InLayers()
    {
        var map = EgressMap.Build(EgressSnapshot.Create(Seed.Objects()));

        var svg = MapFormat.Svg(map);

        var (groups, doc) = SvgGroups(svg);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        Assert.Equal("1.1", doc.Root.Attribute("version")!.Value);
        Assert.Equal(
            [("node gateway", "gw:default/istio-egressgateway"), ("node host", "host:edition.cnn.com"), ("node host", "host:google.com"), ("node namespace", "ns:default")],
            groups.Where(g => g.Class.StartsWith("node", StringComparison.Ordinal)));
        Assert.Equal(
            ["gw:default/istio-egressgateway -> host:edition.cnn.com", "ns:default -> gw:default/istio-egressgateway", "ns:default -> host:google.com"],
            groups.Where(g => g.Class == "edge").Select(g => g.Title));
        // layers: namespaces left of gateways, gateways left of hosts
        double X(string title) => doc.Descendants(Svg + "g").Single(g => g.Element(Svg + "title")?.Value == title)
            .Elements(Svg + "text").Select(t => double.Parse(t.Attribute("x")!.Value, System.Globalization.CultureInfo.InvariantCulture)).Single();
        Assert.True(X("ns:default") < X("gw:default/istio-egressgateway") && X("gw:default/istio-egressgateway") < X("host:edition.cnn.com"));
        Assert.Equal(X("host:edition.cnn.com"), X("host:google.com"));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "edition.cnn.com:443");
        Assert.Equal(svg, MapFormat.Svg(EgressMap.Build(EgressSnapshot.Create(Seed.Objects()))));
    }

    [Fact]
    public void Svg_SeedWithoutGatewayLeg_DrawsTheBrokenLinkDashedRed()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "egressgateway-to-external" });

        var (groups, doc) = SvgGroups(MapFormat.Svg(EgressMap.Build(EgressSnapshot.Create(objects))));

        Assert.Equal("gw:default/istio-egressgateway -> host:edition.cnn.com", Assert.Single(groups, g => g.Class == "edge broken").Title);
        var path = doc.Descendants(Svg + "g").Single(g => g.Attribute("class")?.Value == "edge broken").Element(Svg + "path")!;
        Assert.Contains("stroke:#cc0000", path.Attribute("style")!.Value, StringComparison.Ordinal);
        Assert.Contains("stroke-dasharray", path.Attribute("style")!.Value, StringComparison.Ordinal);
        Assert.DoesNotContain(groups, g => g.Class == "edge passthrough");
    }

    [Fact]
    public void Svg_UnregisteredMeshRouteUnderAllowAny_IsADottedPassthroughLink()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is MeshConfig || o is ServiceEntry { Name: "cnn" });

        var (groups, _) = SvgGroups(MapFormat.Svg(EgressMap.Build(EgressSnapshot.Create(objects))));

        Assert.Equal("ns:default -> host:edition.cnn.com", Assert.Single(groups, g => g.Class == "edge passthrough").Title);
    }

    [Fact]
    public void Svg_TheReadmesSeedMap_IsWhatGraphDrawsForTheSeed()
    {
        var expected = MapFormat.Svg(EgressMap.Build(EgressSnapshot.Create(Seed.Objects())));
        var file = Path.Combine(TestPaths.Repo, "docs", "seed-map.svg");

        Assert.True(File.Exists(file) && File.ReadAllText(file) == expected,
            "docs/seed-map.svg is stale: kubectl-egress graph -o svg ../shared/seed > docs/seed-map.svg");
    }

    [GeneratedRegex("^  \"([^\"]+)\" -> \"([^\"]+)\" \\[(.*)\\];$", RegexOptions.Multiline)]
    private static partial Regex EdgeLine();

    [GeneratedRegex("^  \"([^\"]+)\" \\[label=\"[^\"]*\", shape=(\\w+)\\];$", RegexOptions.Multiline)]
    private static partial Regex NodeLine();
}
