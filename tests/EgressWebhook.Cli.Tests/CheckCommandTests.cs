using System.Text.Json;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("egress-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A copy of the seed's files, with some left out or edited.</summary>
    private string SeedCopy(Func<string, string, string?>? edit = null)
    {
        foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml"))
        {
            var text = File.ReadAllText(file);
            var edited = edit is null ? text : edit(Path.GetFileName(file), text);
            if (edited is not null)
            {
                File.WriteAllText(Path.Combine(_dir, Path.GetFileName(file)), edited);
            }
        }

        return _dir;
    }

    [Fact]
    public void Check_Seed_ExitsZeroWithNoFindings()
    {
        var (exit, output, error) = CliRunner.Run("check", TestPaths.Seed);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("No egress issues found in 8 objects", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SeedWithoutGatewayLeg_ReportsEgw113AndExitsOne()
    {
        var dir = SeedCopy((name, text) => name.StartsWith("02", StringComparison.Ordinal)
            ? string.Join("---", text.Split("---").Where(doc => !doc.Contains("name: egressgateway-to-external", StringComparison.Ordinal)))
            : text);

        var (exit, output, _) = CliRunner.Run("check", dir);

        Assert.Equal(1, exit);
        Assert.Contains("Error [EGW113] (VirtualService default/mesh-to-egress-gateway", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EGW105=warn", 0, "warning")]
    [InlineData("egw105=Deny", 1, "error")]
    [InlineData("EGW105=off", 0, null)]
    public void Check_RuleOverride_ChangesTheSeverityAndTheExitCode(string rule, int expectedExit, string? expectedSeverity)
    {
        var dir = SeedCopy((name, text) => name.StartsWith("02", StringComparison.Ordinal)
            ? ReplaceLast(text, "- port: 443", "- port: 8443")
            : text);

        var (exit, output, _) = CliRunner.Run("check", dir, "-o", "json", "--rule", rule);

        Assert.Equal(expectedExit, exit);
        using var json = JsonDocument.Parse(output);
        var severities = json.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("rule").GetString() == "EGW105").Select(f => f.GetProperty("severity").GetString()).ToArray();
        Assert.Equal(expectedSeverity is null ? [] : [expectedSeverity], severities.Distinct());
    }

    [Theory]
    [InlineData("EGW999=warn")]
    [InlineData("EGW105=maybe")]
    [InlineData("EGW105")]
    [InlineData("EGW405=off")]
    public void Check_BadRuleOverride_IsOneLineAndExitTwo(string rule)
    {
        var (exit, output, error) = CliRunner.Run("check", TestPaths.Seed, "--rule", rule);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains($"--rule {rule}", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SeedWithGatewayLegOnPort8443_ReportsEgw105InJson()
    {
        var dir = SeedCopy((name, text) => name.StartsWith("02", StringComparison.Ordinal)
            ? ReplaceLast(text, "- port: 443", "- port: 8443")
            : text);

        var (exit, output, _) = CliRunner.Run("check", dir, "-o", "json");

        Assert.Equal(1, exit);
        using var json = JsonDocument.Parse(output);
        var finding = json.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("rule").GetString() == "EGW105");
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        Assert.Equal("VirtualService", finding.GetProperty("kind").GetString());
        Assert.Equal("default", finding.GetProperty("namespace").GetString());
        Assert.Equal("egressgateway-to-external", finding.GetProperty("name").GetString());
        Assert.Equal("spec.tls[0].match[0].port", finding.GetProperty("path").GetString());
        Assert.Contains(finding.GetProperty("related").EnumerateArray(), r => r.GetProperty("kind").GetString() == "Gateway" && r.GetProperty("name").GetString() == "istio-egressgateway");
        var summary = json.RootElement.GetProperty("summary");
        Assert.Equal(8, summary.GetProperty("objects").GetInt32());
        Assert.True(summary.GetProperty("errors").GetInt32() >= 1);
    }

    [Fact]
    public void Check_JsonOutput_HasExactlyTheContractFields()
    {
        var dir = SeedCopy((name, text) => name.StartsWith("01", StringComparison.Ordinal) ? null : text);

        var (_, output, _) = CliRunner.Run("check", dir, "-o", "json");

        using var json = JsonDocument.Parse(output);
        Assert.Equal(["findings", "summary"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["objects", "errors", "warnings"], json.RootElement.GetProperty("summary").EnumerateObject().Select(p => p.Name));
        var finding = json.RootElement.GetProperty("findings")[0];
        Assert.Equal(["rule", "severity", "kind", "namespace", "name", "path", "message", "related"], finding.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Check_SeedWithoutCnnUnderAllowAny_SidecarsWarn_TheGatewayLegErrs_ExitsOne()
    {
        var dir = SeedCopy((name, text) => name.StartsWith("01", StringComparison.Ordinal) ? null : text);

        var (exit, output, _) = CliRunner.Run("check", dir, "--outbound-policy", "ALLOW_ANY");

        // the sidecars pass the unknown host through; the gateway's route has no cluster for it (503 NC) in any mode
        Assert.Equal(1, exit);
        Assert.Contains("Warning [EGW103]", output, StringComparison.Ordinal);
        Assert.Contains("Error [EGW101] (VirtualService default/egressgateway-to-external", output, StringComparison.Ordinal);
    }

    /// <summary>The seed with its unused google.com entry declared TCP: only IST0134's warning (EGW112).</summary>
    private string SeedWithTcpEntry() =>
        SeedCopy((name, text) => name.StartsWith("04", StringComparison.Ordinal) ? text.Replace("protocol: TLS", "protocol: TCP", StringComparison.Ordinal) : text);

    [Fact]
    public void Check_WarningsOnly_ExitsZero()
    {
        var (exit, output, _) = CliRunner.Run("check", SeedWithTcpEntry());

        Assert.Equal(0, exit);
        Assert.Contains("Warning [EGW112]", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Error [", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WarningsOnlyFailOnWarning_ExitsOne()
    {
        var (exit, _, _) = CliRunner.Run("check", SeedWithTcpEntry(), "--fail-on", "warning");

        Assert.Equal(1, exit);
    }

    [Fact]
    public void Check_SeedWithoutCnnUnderRegistryOnly_ErrorsAndExitsOne()
    {
        // the seed's own mesh config says REGISTRY_ONLY; no flag needed
        var dir = SeedCopy((name, text) => name.StartsWith("01", StringComparison.Ordinal) ? null : text);

        var (exit, output, _) = CliRunner.Run("check", dir);

        Assert.Equal(1, exit);
        Assert.Contains("Error [EGW101]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_StandardInput_IsReadWithDash()
    {
        var text = string.Join("\n---\n", Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText));

        var (exit, output, _) = CliRunner.RunWithInput(text, "check", "-");

        Assert.Equal(0, exit);
        Assert.Contains("in 8 objects", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_YamlSyntaxError_OneLineNamingFileAndLineExitsTwo()
    {
        var file = Path.Combine(_dir, "broken.yaml");
        File.WriteAllText(file, "apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n");

        var (exit, output, error) = CliRunner.Run("check", file);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"kubectl-egress: {file}:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WrongFieldType_NamesTheFieldExitsTwo()
    {
        var file = Path.Combine(_dir, "se.yaml");
        File.WriteAllText(file, "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: x\nspec:\n  ports:\n  - number: abc\n");

        var (exit, _, error) = CliRunner.Run("check", file);

        Assert.Equal(2, exit);
        Assert.Contains("spec.ports[0].number", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MissingFile_ExitsTwo()
    {
        var (exit, _, error) = CliRunner.Run("check", Path.Combine(_dir, "nope.yaml"));

        Assert.Equal(2, exit);
        Assert.Contains("nope.yaml: cannot read", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--output", "xml")]
    [InlineData("--outbound-policy", "DENY_ALL")]
    [InlineData("--fail-on", "info")]
    public void Check_BadFlagValue_OneLineExitsTwo(string flag, string value)
    {
        var (exit, _, error) = CliRunner.Run("check", TestPaths.Seed, flag, value);

        Assert.Equal(2, exit);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Check_NoPath_ExitsTwo()
    {
        var (exit, _, _) = CliRunner.Run("check");

        Assert.Equal(2, exit);
    }

    [Fact]
    public void Check_UnknownKindsAndListKind_AreSkippedAndExpanded()
    {
        var file = Path.Combine(_dir, "list.yaml");
        File.WriteAllText(file, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app}
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: team-a}
            - apiVersion: v1
              kind: Namespace
              metadata: {name: team-b}
            """);

        var (exit, output, _) = CliRunner.Run("check", file);

        Assert.Equal(0, exit);
        Assert.Contains("in 2 objects", output, StringComparison.Ordinal);
    }

    private static string ReplaceLast(string text, string what, string with)
    {
        var i = text.LastIndexOf(what, StringComparison.Ordinal);
        return string.Concat(text.AsSpan(0, i), with, text.AsSpan(i + what.Length));
    }
}
