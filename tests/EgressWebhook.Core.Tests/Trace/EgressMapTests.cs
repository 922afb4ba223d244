using System.Text.RegularExpressions;
using EgressWebhook.Core.Model;
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

    [GeneratedRegex("^  \"([^\"]+)\" -> \"([^\"]+)\" \\[(.*)\\];$", RegexOptions.Multiline)]
    private static partial Regex EdgeLine();

    [GeneratedRegex("^  \"([^\"]+)\" \\[label=\"[^\"]*\", shape=(\\w+)\\];$", RegexOptions.Multiline)]
    private static partial Regex NodeLine();
}
