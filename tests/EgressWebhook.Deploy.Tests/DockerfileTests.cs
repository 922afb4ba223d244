using System.Text.Json;
using System.Xml.Linq;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>Static checks of the Dockerfile and .dockerignore (no Docker engine where this is developed).</summary>
public sealed class DockerfileTests
{
    private static readonly IReadOnlyList<DockerStage> Stages = Dockerfile.Parse(File.ReadAllText(RepoPaths.Of("Dockerfile")));

    private static readonly DockerIgnore Ignore = new(File.ReadAllText(RepoPaths.Of(".dockerignore")));

    private static DockerStage Final => Stages[^1];

    [Fact]
    public void Dockerfile_BuildsWithTheSdk_RunsOnTheAspNetRuntime()
    {
        Assert.True(Stages.Count >= 2, "multi-stage: build and runtime");
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", Stages[0].Image, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", Final.Image, StringComparison.Ordinal);
        Assert.True(Final.Image.Contains("chiseled", StringComparison.Ordinal) || Final.Image.Contains("slim", StringComparison.Ordinal),
            $"runtime image {Final.Image} should be chiseled or slim");
    }

    [Fact]
    public void Dockerfile_PublishesTheServerProject()
    {
        var runs = string.Join("\n", Stages.SelectMany(s => s.All("RUN")).Select(r => r.Arguments));

        Assert.Contains("dotnet restore " + ServerContract.ServerProject, runs);
        Assert.Contains("dotnet publish " + ServerContract.ServerProject, runs);
        Assert.True(File.Exists(RepoPaths.Of(ServerContract.ServerProject)));
    }

    [Fact]
    public void Dockerfile_CopiesTheBuildSettingsAndSources_NoneOfThemIgnored()
    {
        var sources = Stages[0].All("COPY").Select(c => c.Split()).Where(c => !c.Flags.ContainsKey("from"))
            .SelectMany(c => c.Words.Take(c.Words.Count - 1)).Select(s => s.TrimEnd('/')).ToArray();

        // Without .editorconfig the analyzers' severities differ and TreatWarningsAsErrors may fail the build.
        Assert.Equal(["global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig", "src"], sources);
        foreach (var source in sources)
        {
            Assert.True(File.Exists(RepoPaths.Of(source)) || Directory.Exists(RepoPaths.Of(source)), $"{source} is not in the repository");
            Assert.False(Ignore.Excludes(source), $".dockerignore excludes {source}, which the build copies");
        }
    }

    [Fact]
    public void RuntimeStage_HoldsOnlyThePublishedApp()
    {
        Assert.Empty(Final.All("RUN"));
        var copies = Final.All("COPY").Concat(Final.All("ADD")).Select(c => c.Split()).ToArray();
        Assert.NotEmpty(copies);
        Assert.All(copies, c => Assert.Contains(c.Flags.GetValueOrDefault("from"), Stages.Take(Stages.Count - 1).Select(s => s.Name)));
    }

    [Fact]
    public void RuntimeStage_RunsAsTheNumericNonRootAppUser()
    {
        var user = Assert.Single(Final.All("USER")).Arguments;

        var parts = user.Split(':');
        Assert.All(parts, p => Assert.Matches("^[0-9]+$", p));
        Assert.NotEqual(0, long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture));
        // The Deployment's runAsUser (PodSecurityTests) is the same user.
        Assert.Equal(ServerContract.AppUserId, long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void RuntimeStage_ExposesTheAdmissionAndHealthPorts()
    {
        var exposed = Final.All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.Split('/')[0]).ToArray();

        Assert.Contains(ServerContract.AdmissionPort.ToString(System.Globalization.CultureInfo.InvariantCulture), exposed);
        Assert.Contains(ServerContract.HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture), exposed);
    }

    [Fact]
    public void RuntimeStage_StartsTheServerAssembly()
    {
        var entrypoint = Assert.Single(Final.All("ENTRYPOINT")).Arguments;
        var exec = JsonSerializer.Deserialize(entrypoint, DeployJsonContext.Default.StringArray)
            ?? throw new Xunit.Sdk.XunitException("ENTRYPOINT must be in exec (JSON array) form");

        Assert.Equal(["dotnet", AssemblyNameOf(ServerContract.ServerProject) + ".dll"], exec);
        Assert.Equal("/app", Final.All("WORKDIR").Last().Arguments);
    }

    [Theory]
    [InlineData("src/EgressWebhook.Server/bin/Release/net10.0/EgressWebhook.Server.dll")]
    [InlineData("src/EgressWebhook.Core/obj/project.assets.json")]
    [InlineData("bin/x")]
    [InlineData("obj/x")]
    [InlineData("certs/out/tls.key")]
    [InlineData("certs/gen-dev-certs.sh")]
    [InlineData("out/EgressWebhook.Server.dll")]
    [InlineData("src/EgressWebhook.Server/out/x.dll")]
    [InlineData("tests/EgressWebhook.Deploy.Tests/DockerfileTests.cs")]
    [InlineData(".git/HEAD")]
    public void DockerIgnore_Excludes(string path) => Assert.True(Ignore.Excludes(path), $"{path} reaches the build context");

    [Theory]
    [InlineData("src/EgressWebhook.Server/Program.cs")]
    [InlineData("src/EgressWebhook.Core/EgressWebhook.Core.csproj")]
    [InlineData("src/Shared/ManifestFiles.cs")]
    [InlineData("global.json")]
    [InlineData("Directory.Packages.props")]
    [InlineData(".editorconfig")]
    public void DockerIgnore_Keeps(string path) => Assert.False(Ignore.Excludes(path), $"{path} is needed by the build");

    [Fact]
    public void DockerIgnoreMatcher_FollowsDockerRules()
    {
        var ignore = new DockerIgnore("**/bin/\n*.md\n!README.md\nsecret?.txt\n");

        Assert.True(ignore.Excludes("a/b/bin/c"));
        Assert.True(ignore.Excludes("bin"));
        Assert.False(ignore.Excludes("a/binary/c"));
        Assert.True(ignore.Excludes("CHANGES.md"));
        Assert.False(ignore.Excludes("README.md"));
        Assert.False(ignore.Excludes("docs/CHANGES.md"));
        Assert.True(ignore.Excludes("secret1.txt"));
        Assert.False(ignore.Excludes("secret12.txt"));
    }

    private static string AssemblyNameOf(string project)
    {
        var name = XDocument.Load(RepoPaths.Of(project)).Descendants("AssemblyName").Select(e => e.Value.Trim()).LastOrDefault();
        return string.IsNullOrEmpty(name) ? Path.GetFileNameWithoutExtension(project) : name;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class DeployJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
