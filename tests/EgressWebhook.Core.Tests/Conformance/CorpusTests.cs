using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Conformance;

/// <summary>Istio's and Kiali's published configurations with the verdicts of the corpus index.</summary>
public sealed class CorpusTests
{
    public static TheoryData<string> AcceptFiles => new(
        Corpus.Files.Where(f => f.Verdict.StartsWith("accept", StringComparison.Ordinal)).Select(f => f.Path));

    /// <summary>should-flag files that name a rule of the catalogue (EG-NN). Files whose verdict names only a
    /// Kiali or Istio check outside the catalogue (KIA0005, KIA0203, IST0165) are not asserted here.</summary>
    public static TheoryData<string> FlagFiles => new(
        Corpus.Files.Where(f => f.Verdict.StartsWith("should-flag", StringComparison.Ordinal) && Corpus.NamedRule(f) is not null).Select(f => f.Path));

    [Theory]
    [MemberData(nameof(AcceptFiles))]
    public void CheckAll_AcceptedFile_HasNoError(string path)
    {
        var file = Corpus.Files.Single(f => f.Path == path);

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(Corpus.Read(file)), RuleSettings.Default);

        Assert.True(report.Errors == 0, $"{path}: unexpected errors:\n{string.Join('\n', report.Findings.Where(f => f.Severity == Severity.Error))}");
    }

    [Theory]
    [MemberData(nameof(FlagFiles))]
    public void CheckAll_FlaggedFile_FiresNamedRule(string path)
    {
        var file = Corpus.Files.Single(f => f.Path == path);
        var rule = Corpus.NamedRule(file)!;

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(Corpus.Read(file)), RuleSettings.Default);

        Assert.True(report.Findings.Any(f => f.Rule == rule), $"{path}: expected {rule}, got:\n{string.Join('\n', report.Findings)}");
        if (file.Verdict.Contains("(warn)", StringComparison.Ordinal))
        {
            Assert.Equal(0, report.Errors);
        }
    }
}
