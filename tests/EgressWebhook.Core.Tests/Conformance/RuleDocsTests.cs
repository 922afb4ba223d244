using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Conformance;

public sealed class RuleDocsTests
{
    private static IEnumerable<string> Ids => typeof(RuleIds).GetFields().Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal);

    public static TheoryData<string> AllRuleIds => new(Ids);

    /// <summary>Someone who reads an id in a denial finds its section in docs/rules.md.</summary>
    [Theory]
    [MemberData(nameof(AllRuleIds))]
    public void RulesDoc_EveryRuleId_HasASection(string id)
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.Repo, "docs", "rules.md"));

        Assert.Contains($"\n## {id}", doc, StringComparison.Ordinal);
        Assert.Contains($"| [{id}](#", doc, StringComparison.Ordinal);
    }

    /// <summary>Every cross-resource and per-object rule says whether its findings are contradictions or
    /// incompleteness (what admission tolerates until the grace period ends).</summary>
    [Theory]
    [MemberData(nameof(AllRuleIds))]
    public void RulesDoc_EveryCheckSection_SaysTheKindOfItsFindings(string id)
    {
        if (id[3] is not ('1' or '2' or '5'))
        {
            return;
        }

        var doc = File.ReadAllText(Path.Combine(TestPaths.Repo, "docs", "rules.md"));
        var start = doc.IndexOf($"\n## {id}", StringComparison.Ordinal);
        var end = doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = doc[start..(end < 0 ? doc.Length : end)];

        Assert.Matches(@"\*\*Kind:\*\* .*(contradiction|incompleteness)", section);
    }

    [Fact]
    public void RuleCatalog_EveryCrossResourceAndPerObjectId_IsReportedByARule()
    {
        var reported = RuleCatalog.All.SelectMany(r => r.Ids).ToHashSet();
        var catalogue = Ids.Where(id => id[3] is '1' or '2' or '5' && id != RuleIds.DeleteLeavesDanglingReference);

        Assert.All(catalogue, id => Assert.Contains(id, reported));
    }
}
