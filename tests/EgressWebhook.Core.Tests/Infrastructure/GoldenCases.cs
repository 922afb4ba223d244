using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Infrastructure;

/// <summary>Golden cases: <c>tests/testdata/cases/&lt;case&gt;/input.yaml</c> and <c>expected.json</c> (the CLI's JSON report).
/// Case names start with the rule id they exercise (<c>egw105-…</c>) and end in the outcome
/// (<c>-denied</c>, <c>-warned</c>, <c>-allowed</c>); a near miss has <c>near-miss</c> in its name.
/// A case with <c>apply.yaml</c> checks that object as an admission (create or update) against <c>input.yaml</c>;
/// one with <c>delete.yaml</c> checks deleting that object.</summary>
public static class GoldenCases
{
    public static IEnumerable<string> Names() =>
        Directory.GetDirectories(TestPaths.Cases).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static string InputPath(string name) => Path.Combine(TestPaths.Cases, name, "input.yaml");

    public static string ExpectedPath(string name) => Path.Combine(TestPaths.Cases, name, "expected.json");

    public static EgressSnapshot Snapshot(string name) => EgressSnapshot.Create(ManifestReader.Read(File.ReadAllText(InputPath(name))));

    public static EgressReport Evaluate(string name)
    {
        var snapshot = Snapshot(name);
        if (Change(name) is { } change)
        {
            return EgressEngine.Default.CheckChange(snapshot, change, RuleSettings.Default);
        }

        return EgressEngine.Default.CheckAll(snapshot, RuleSettings.Default);
    }

    /// <summary>The admission change of a case, if it has one.</summary>
    public static ObjectChange? Change(string name)
    {
        var dir = Path.Combine(TestPaths.Cases, name);
        var apply = Path.Combine(dir, "apply.yaml");
        var delete = Path.Combine(dir, "delete.yaml");
        if (File.Exists(apply))
        {
            var obj = ManifestReader.Read(File.ReadAllText(apply)).Single();
            var old = Snapshot(name).Find(obj.Key);
            return new ObjectChange(old is null ? Operation.Create : Operation.Update, obj, old);
        }

        if (File.Exists(delete))
        {
            var obj = ManifestReader.Read(File.ReadAllText(delete)).Single();
            return new ObjectChange(Operation.Delete, null, obj);
        }

        return null;
    }
}
