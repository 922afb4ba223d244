using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

/// <summary>The CLI reads its input with the same limits as the server: one line naming the file, exit 2.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("egress-cli-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Check_AliasBomb_OneLineNamingFileAndLine_Exit2()
    {
        var bomb = Path.Combine(TestPaths.TestData, "hostile", "alias-bomb.yaml");

        var (exit, output, error) = CliRunner.Run("check", bomb);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Matches($"^kubectl-egress: {System.Text.RegularExpressions.Regex.Escape(bomb)}:[0-9]+:[0-9]+: the document expands to more than [0-9]+ bytes of JSON \\(aliases expanded\\); refused\n$", error);
    }

    [Fact]
    public void Check_AliasBombOnStdin_OneLine_Exit2()
    {
        var (exit, _, error) = CliRunner.RunWithInput(File.ReadAllText(Path.Combine(TestPaths.TestData, "hostile", "alias-bomb.yaml")), "check", "-");

        Assert.Equal(2, exit);
        Assert.StartsWith("kubectl-egress: <stdin>:", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Check_DirectoryWithSymlinkLoops_ReadsEachFileOnce()
    {
        foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml"))
        {
            File.Copy(file, Path.Combine(_dir, Path.GetFileName(file)));
        }

        var sub = Directory.CreateDirectory(Path.Combine(_dir, "sub")).FullName;
        File.CreateSymbolicLink(Path.Combine(sub, "a"), "..");
        File.CreateSymbolicLink(Path.Combine(sub, "b"), "..");

        var (exit, output, error) = CliRunner.Run("check", _dir);

        Assert.Equal(Directory.GetFiles(TestPaths.Seed, "*.yaml").Length, Shared.ManifestFiles.InDirectory(_dir).Count);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Contains("No egress issues found in 8 objects", output, StringComparison.Ordinal);
    }
}
