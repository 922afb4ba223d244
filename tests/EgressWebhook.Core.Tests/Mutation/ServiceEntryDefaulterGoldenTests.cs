using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Mutation;

/// <summary>Patch goldens: <c>tests/testdata/mutation/&lt;case&gt;/input.yaml</c> (exactly one ServiceEntry, the object
/// under admission, plus the cluster state) [+ <c>default-gateway.txt</c>, the cluster default] [+ <c>dynamic-dns.txt</c>:
/// <see cref="MutationPolicy.DynamicDns"/> on] →
/// <c>expected.patch.json</c> and <c>expected.warnings.txt</c>.</summary>
public sealed class ServiceEntryDefaulterGoldenTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Root => Path.Combine(TestPaths.TestData, "mutation");

    public static TheoryData<string> Cases => new(CaseNames());

    public static IReadOnlyList<string> CaseNames() =>
        Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Default_Case_MatchesGoldenPatchAndWarnings(string name)
    {
        var (entryJson, snapshot, policy) = Load(name);

        var result = Default(entryJson, snapshot, policy);

        Golden.AssertMatches(Path.Combine(Root, name, "expected.patch.json"), JsonNode.Parse(PatchOperation.ToJson(result.Patch))!.ToJsonString(Indented));
        Golden.AssertMatches(Path.Combine(Root, name, "expected.warnings.txt"),
            string.Join('\n', result.Warnings.Select(w => $"{w.Rule} {w.Severity} {w.Path}: {w.Message}")));
        Assert.All(result.Warnings, w => Assert.StartsWith("EGW4", w.Rule, StringComparison.Ordinal));

        // kubectl's warning line (its "Warning: " included) holds an EGW409 notice whole: nothing cut with "…"
        Assert.All(result.Warnings.Where(w => w.Rule == RuleIds.RoutingSkippedNotVisible), w => Assert.DoesNotContain('…', w.WarningLine()));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Default_AppliedPatchMutatedAgain_GivesNoOperation(string name)
    {
        var (entryJson, snapshot, policy) = Load(name);
        var first = Default(entryJson, snapshot, policy);

        var patched = JsonPatchApplier.Apply(entryJson, JsonNode.Parse(PatchOperation.ToJson(first.Patch))!.AsArray());
        var second = Default(patched, snapshot, policy);

        Assert.Empty(second.Patch);
        Assert.Equal(first.Plan?.Routed, second.Plan?.Routed);
    }

    [Fact]
    public void Cases_CoverEveryNoticeAndTheUnchangedOutcomes()
    {
        var names = CaseNames();
        foreach (var id in new[] { "egw401", "egw402", "egw403", "egw404", "egw405", "egw406", "egw407", "egw408", "egw409", "egw412" })
        {
            Assert.Contains(names, n => n.StartsWith(id, StringComparison.Ordinal));
        }

        Assert.Contains(names, n => n.EndsWith("-unchanged", StringComparison.Ordinal));
        Assert.Contains(names, n => n.EndsWith("-defaulted", StringComparison.Ordinal));
    }

    internal static MutationResult Default(JsonNode entryJson, EgressSnapshot snapshot, MutationPolicy policy)
    {
        var entry = (ServiceEntry)ObjectDecoder.Decode(JsonSerializer.SerializeToElement(entryJson), "default")!;
        return ServiceEntryDefaulter.Default(entry, SnapshotView.With(snapshot, entry), policy);
    }

    internal static (JsonNode Entry, EgressSnapshot Snapshot, MutationPolicy Policy) Load(string name)
    {
        var dir = Path.Combine(Root, name);
        var text = File.ReadAllText(Path.Combine(dir, "input.yaml"));
        var entry = YamlJson.ParseDocuments(text).Select(d => d.Json)
            .Single(j => j.TryGetProperty("kind", out var k) && k.GetString() == "ServiceEntry");
        var others = ManifestReader.Read(text).Where(o => o is not ServiceEntry);
        var defaultGateway = Path.Combine(dir, "default-gateway.txt");
        var policy = File.Exists(defaultGateway) ? new MutationPolicy { DefaultGateway = File.ReadAllText(defaultGateway).Trim() } : MutationPolicy.Default;
        if (File.Exists(Path.Combine(dir, "dynamic-dns.txt")))
        {
            policy = policy with { DynamicDns = true };
        }

        return (JsonNode.Parse(entry.GetRawText())!, EgressSnapshot.Create(others), policy);
    }
}
