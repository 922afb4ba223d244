using System.Xml.Linq;

namespace EgressWebhook.Cli.Tests;

public sealed class GraphCommandTests
{
    [Fact]
    public void Graph_Svg_IsDrawnWithoutGraphviz_AsTheReadmeShowsIt()
    {
        var (exit, output, err) = CliRunner.Run("graph", "-o", "svg", Path.Combine(CliRunner.Shared, "seed"));

        Assert.Equal((0, ""), (exit, err));
        var svg = XDocument.Parse(output).Root!;
        Assert.Equal(XName.Get("svg", "http://www.w3.org/2000/svg"), svg.Name);
        Assert.Equal(File.ReadAllText(Path.Combine(EgressWebhook.Core.Tests.Infrastructure.TestPaths.Repo, "docs", "seed-map.svg")), output);
    }
}
