using System.Text.RegularExpressions;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Conformance;

/// <summary>Cases built from public issue threads (<c>tests/testdata/reports/&lt;case&gt;/</c>): <c>input.yaml</c> holds the
/// objects as the thread shows them, completed minimally and marked; <c>README.md</c> holds the link, the diagnosis in one
/// line and the verdict (<c>expected: error EGW112</c>, <c>expected: warning EGW107</c> or <c>expected: no error</c>).</summary>
public sealed partial class ReportCaseTests
{
    private static string Root => Path.Combine(TestPaths.TestData, "reports");

    public static TheoryData<string> Cases => new(Names());

    private static IEnumerable<string> Names() => Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal);

    private static (string Kind, string? Rule) Expected(string name)
    {
        var readme = File.ReadAllText(Path.Combine(Root, name, "README.md"));
        var m = ExpectedLine().Match(readme);
        Assert.True(m.Success, $"{name}: README.md has no 'expected:' line");
        Assert.Matches(@"(?m)^link: https://github\.com/[^/\s]+/[^/\s]+/(issues|pull)/\d+$", readme);
        Assert.Matches(@"(?m)^diagnosis: \S.*$", readme);
        return (m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckAll_ReportCase_GivesTheVerdictOfItsThread(string name)
    {
        var objects = ManifestReader.Read(File.ReadAllText(Path.Combine(Root, name, "input.yaml")));
        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default);
        var all = string.Join('\n', report.Findings);

        var (kind, rule) = Expected(name);
        switch (kind)
        {
            case "error":
                Assert.True(report.Findings.Any(f => f.Rule == rule && f.Severity == Severity.Error), $"{name}: expected an {rule} error, got:\n{all}");
                break;
            case "warning":
                Assert.True(report.Errors == 0, $"{name}: expected no error, got:\n{all}");
                Assert.True(report.Findings.Any(f => f.Rule == rule), $"{name}: expected an {rule} warning, got:\n{all}");
                break;
            default:
                Assert.True(report.Errors == 0, $"{name}: a working configuration, got:\n{all}");
                break;
        }
    }

    [Fact]
    public void ReportCases_AtLeastFifteen_AtLeastFiveWorking()
    {
        var verdicts = Names().Select(Expected).ToList();

        Assert.True(verdicts.Count >= 15, $"{verdicts.Count} cases");
        Assert.True(verdicts.Count(v => v.Kind == "no") >= 5, $"{verdicts.Count(v => v.Kind == "no")} working cases");
    }

    [GeneratedRegex(@"(?m)^expected: (error|warning|no) ?(EGW\d{3})?(?: error)?\s*$")]
    private static partial Regex ExpectedLine();
}
