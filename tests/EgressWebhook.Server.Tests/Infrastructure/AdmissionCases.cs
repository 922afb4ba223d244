using System.Net;
using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Tests.Infrastructure;

/// <summary>One admission derived from a golden case: the state, the review body and what the engine says.</summary>
public sealed record CaseAdmission(string Description, EgressSnapshot State, string Operation, JsonElement? Object, JsonElement? OldObject, EgressReport Expected);

/// <summary>The engine's golden cases (<c>tests/testdata/cases/*</c>, enumerated at run time) turned into admissions:
/// <c>apply.yaml</c> / <c>delete.yaml</c> when present, else a CREATE of each object of <c>input.yaml</c> against
/// the snapshot of the others. The seed is always a case too.</summary>
public static class AdmissionCases
{
    public const string SeedCase = "(seed)";

    public static IEnumerable<string> Names()
    {
        yield return SeedCase;
        if (Directory.Exists(TestPaths.Cases))
        {
            foreach (var dir in Directory.GetDirectories(TestPaths.Cases).Order(StringComparer.Ordinal))
            {
                if (File.Exists(Path.Combine(dir, "input.yaml")))
                {
                    yield return Path.GetFileName(dir);
                }
            }
        }
    }

    public static IReadOnlyList<CaseAdmission> Admissions(string name)
    {
        var input = name == SeedCase
            ? string.Join("\n---\n", Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText))
            : File.ReadAllText(Path.Combine(TestPaths.Cases, name, "input.yaml"));
        var docs = Objects(input);
        var snapshot = EgressSnapshot.Create(docs.Select(d => d.Object));
        var engine = EgressEngine.Default;
        var policy = RuleSettings.Default;

        var dir = Path.Combine(TestPaths.Cases, name);
        var apply = Path.Combine(dir, "apply.yaml");
        var delete = Path.Combine(dir, "delete.yaml");
        if (File.Exists(apply))
        {
            var (obj, json) = Objects(File.ReadAllText(apply)).Single();
            var old = snapshot.Find(obj.Key);
            JsonElement? oldJson = old is null ? null : docs.Last(d => d.Object.Key == obj.Key).Json;
            var operation = old is null ? Operation.Create : Operation.Update;
            return [new CaseAdmission($"{name}: apply", snapshot, operation.ToString().ToUpperInvariant(), json, oldJson,
                engine.CheckChange(snapshot, new ObjectChange(operation, obj, old), policy))];
        }

        if (File.Exists(delete))
        {
            var (obj, json) = Objects(File.ReadAllText(delete)).Single();
            return [new CaseAdmission($"{name}: delete", snapshot, "DELETE", null, json,
                engine.CheckChange(snapshot, new ObjectChange(Operation.Delete, null, obj), policy))];
        }

        var result = new List<CaseAdmission>();
        for (var i = 0; i < docs.Count; i++)
        {
            var (obj, json) = docs[i];
            var others = EgressSnapshot.Create(docs.Where((_, j) => j != i).Select(d => d.Object));
            result.Add(new CaseAdmission($"{name}: create {obj.Ref}", others, "CREATE", json, null,
                engine.CheckChange(others, new ObjectChange(Operation.Create, obj, null), policy)));
        }

        return result;
    }

    /// <summary>Each decodable object with its JSON (List items flattened), as the state directory reads them.</summary>
    public static List<(EgressObject Object, JsonElement Json)> Objects(string text)
    {
        var result = new List<(EgressObject, JsonElement)>();
        foreach (var doc in YamlJson.ParseDocuments(text))
        {
            Add(doc.Json);
        }

        return result;

        void Add(JsonElement json)
        {
            if (json.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (json.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String && k.GetString()!.EndsWith("List", StringComparison.Ordinal) &&
                json.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    Add(item);
                }

                return;
            }

            if (ObjectDecoder.Decode(json, "default") is { } obj && json.TryGetProperty("kind", out _))
            {
                result.Add((obj, json.Clone()));
            }
        }
    }

    /// <summary>Asserts the response limits every answer must keep.</summary>
    public static void AssertWellFormed(AdmissionResult result, string uid, string apiVersion)
    {
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal(apiVersion, result.Root.GetProperty("apiVersion").GetString());
        Assert.Equal("AdmissionReview", result.Root.GetProperty("kind").GetString());
        Assert.Equal(uid, result.Uid);
        var warnings = result.Warnings;
        Assert.All(warnings, w => Assert.InRange(w.Length, 1, 120));
        Assert.InRange(warnings.Sum(w => w.Length), 0, 4096);
        var annotations = result.Response.GetProperty("auditAnnotations");
        Assert.True(annotations.TryGetProperty("decision", out _), "auditAnnotations.decision is missing");
        foreach (var a in annotations.EnumerateObject())
        {
            // the API server prefixes keys with the webhook name: they must be plain qualified names
            Assert.Matches("^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$", a.Name);
        }

        if (!result.Allowed)
        {
            Assert.False(string.IsNullOrEmpty(result.StatusMessage));
            Assert.NotNull(result.StatusCode);
        }
    }
}
