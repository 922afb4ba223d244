using System.Text.RegularExpressions;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>README.md keeps the two commands a new user needs, CI runs the test one, and the paths it names exist.</summary>
public sealed partial class ReadmeTests
{
    private const string RunCommand = "dotnet run --project src/EgressWebhook.Server -- --state examples/state";
    private const string TestCommand = "dotnet test EgressWebhook.sln";

    private static readonly string Text = File.ReadAllText(RepoPaths.Of("README.md"));

    [Fact]
    public void QuickStart_HasTheRunAndTestCommands_AndTheirPathsExist()
    {
        var quickStart = Text[Text.IndexOf("## Quick start", StringComparison.Ordinal)..];
        quickStart = quickStart[..quickStart.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var commands = quickStart.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("dotnet ", StringComparison.Ordinal)).ToArray();

        Assert.Equal([RunCommand, TestCommand], commands);
        Assert.True(File.Exists(RepoPaths.Of("src/EgressWebhook.Server/EgressWebhook.Server.csproj")));
        Assert.NotEmpty(Directory.GetFiles(RepoPaths.Of("examples/state"), "*.yaml"));
        Assert.True(File.Exists(RepoPaths.Of("EgressWebhook.sln")));
    }

    [Fact]
    public void Ci_RunsTheReadmeTestCommand()
    {
        var ci = File.ReadAllLines(RepoPaths.Of(".ci/run")).Select(l => l.Trim()).Where(l => !l.StartsWith('#'));

        Assert.Contains(ci, l => l.StartsWith(TestCommand + " ", StringComparison.Ordinal));
    }

    [Fact]
    public void Readme_NamesOnlyPathsThatExist()
    {
        var paths = RepoPath().Matches(Text).Select(m => m.Value.TrimEnd('/'))
            .Where(p => !p.StartsWith("certs/out", StringComparison.Ordinal)) // made by the script, git-ignored
            .Distinct().ToArray();

        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.True(File.Exists(RepoPaths.Of(p)) || Directory.Exists(RepoPaths.Of(p)), $"README.md names {p}, which does not exist"));
    }

    [Fact]
    public void RelativeLinks_InReadmeAndDocs_PointAtFilesThatExist()
    {
        var documents = Directory.GetFiles(RepoPaths.Of("docs"), "*.md").Append(RepoPaths.Of("README.md"));
        var broken = documents.SelectMany(doc => MarkdownLink().Matches(File.ReadAllText(doc))
                .Select(m => m.Groups[1].Value)
                .Where(link => link.Length > 0 && !link.Contains("://", StringComparison.Ordinal))
                .Where(link => !File.Exists(Path.Combine(Path.GetDirectoryName(doc)!, link)) && !Directory.Exists(Path.Combine(Path.GetDirectoryName(doc)!, link)))
                .Select(link => $"{Path.GetFileName(doc)} -> {link}"))
            .ToArray();

        Assert.Empty(broken);
    }

    [GeneratedRegex(@"\]\(([^)#\s]*)(#[^)]*)?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"(?<![\w/.~-])(src|tests|docs|deploy|certs|examples)/[\w./-]*[\w/]")]
    private static partial Regex RepoPath();
}
