using System.Text.RegularExpressions;
using System.Xml.Linq;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>Checks <see cref="ServerContract"/> against the server's sources, so that the manifests cannot
/// drift from the routes and assembly the server really has.</summary>
public sealed partial class ServerContractTests
{
    private static readonly string ServerDirectory = Path.GetDirectoryName(RepoPaths.Of(ServerContract.ServerProject))!;

    [Fact]
    public void ServerProject_IsAWebProject_NamedAsTheContractSays()
    {
        var project = XDocument.Load(RepoPaths.Of(ServerContract.ServerProject));

        Assert.Equal("Microsoft.NET.Sdk.Web", project.Root!.Attribute("Sdk")?.Value);
        var assemblyName = project.Descendants("AssemblyName").Select(e => e.Value).LastOrDefault() ?? Path.GetFileNameWithoutExtension(ServerContract.ServerProject);
        Assert.Equal("EgressWebhook.Server", assemblyName);
    }

    [Fact]
    public void ServerSources_MapTheContractRoutes_OnceTheyMapAnyOfThem()
    {
        // The server is written alongside the manifests: every route the server source names must be one
        // the manifests know, and once it maps its admission endpoints, all of them must be there.
        var sources = string.Join("\n", Directory.EnumerateFiles(ServerDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var literals = RouteLiteral().Matches(sources).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        string[] contract = [ServerContract.ValidatePath, ServerContract.MutatePath, ServerContract.LivePath, ServerContract.ReadyPath];

        Assert.Contains(ServerContract.LivePath, literals);
        if (sources.Contains("MapPost", StringComparison.Ordinal))
        {
            Assert.All(contract, route => Assert.Contains(route, literals));
        }
    }

    [GeneratedRegex("\"(/[a-z]+)\"")]
    private static partial Regex RouteLiteral();
}
