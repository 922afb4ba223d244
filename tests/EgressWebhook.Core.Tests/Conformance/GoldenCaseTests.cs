using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Conformance;

public sealed class GoldenCaseTests
{
    public static TheoryData<string> Cases => new(GoldenCases.Names());

    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckAll_Case_MatchesGolden(string name)
    {
        var report = GoldenCases.Evaluate(name);

        Golden.AssertMatches(GoldenCases.ExpectedPath(name), ReportJson.Serialize(report, indented: true));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckAll_Case_OutcomeMatchesName(string name)
    {
        var report = GoldenCases.Evaluate(name);

        if (name.EndsWith("-denied", StringComparison.Ordinal))
        {
            Assert.True(report.Errors > 0, $"{name}: expected an error");
        }
        else if (name.EndsWith("-warned", StringComparison.Ordinal))
        {
            Assert.Equal(0, report.Errors);
            Assert.True(report.Warnings > 0, $"{name}: expected a warning");
        }
        else
        {
            Assert.EndsWith("-allowed", name, StringComparison.Ordinal);
            Assert.Equal(0, report.Errors);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckAll_Case_HeadlinesFitAWarning(string name)
    {
        foreach (var finding in GoldenCases.Evaluate(name).Findings)
        {
            Assert.InRange(finding.Message.Length, 1, Finding.MaxHeadline);
            Assert.DoesNotContain('\n', finding.Message);
            Assert.NotEqual("", finding.Path);
        }
    }

    /// <summary>kubectl prints <c>Warning: </c> before each admission warning, and Kubernetes cuts at 120 characters: the
    /// line must fit with that prefix, and whatever is shortened, the fix (after the message's last <c>"; "</c>) stays whole.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckAll_Case_WarningLineFitsKubectlAndKeepsTheFix(string name)
    {
        foreach (var finding in GoldenCases.Evaluate(name).Findings)
        {
            var line = finding.WarningLine();

            Assert.InRange((Finding.KubectlPrefix + line).Length, 1, Finding.MaxHeadline);
            Assert.StartsWith(finding.Rule + " ", line, StringComparison.Ordinal);
            var split = finding.Message.LastIndexOf("; ", StringComparison.Ordinal);
            if (split >= 0)
            {
                Assert.EndsWith(finding.Message[split..], line, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Every rule id of the catalogue has a case that fires it and a near miss that must not.</summary>
    [Theory]
    [MemberData(nameof(RuleIdList))]
    public void Cases_EveryRule_HasFiringCaseAndNearMiss(string ruleId)
    {
        var prefix = ruleId.ToLowerInvariant() + "-";
        var cases = GoldenCases.Names().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();

        Assert.Contains(cases, n => !n.Contains("near-miss", StringComparison.Ordinal) && GoldenCases.Evaluate(n).Findings.Any(f => f.Rule == ruleId));
        Assert.Contains(cases, n => n.Contains("near-miss", StringComparison.Ordinal) && GoldenCases.Evaluate(n).Findings.All(f => f.Rule != ruleId));
    }

    public static TheoryData<string> RuleIdList => new(
        typeof(RuleIds).GetFields().Select(f => (string)f.GetRawConstantValue()!).Where(id => id.StartsWith("EGW1", StringComparison.Ordinal) || id.StartsWith("EGW2", StringComparison.Ordinal) || id.StartsWith("EGW3", StringComparison.Ordinal) || id.StartsWith("EGW5", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
}
