using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Endpoints;

/// <summary>Issue 13's hostile inputs (tests/testdata/hostile, symlink loops made here) and a seeded, bounded fuzz run:
/// no 5xx, no escaping exception, every answer within its deadline, the last good snapshot kept.</summary>
public sealed class HostileInputTests
{
    private static string Hostile(string name) => Path.Combine(TestPaths.TestData, "hostile", name);

    private static readonly string[] SeedFiles = [.. Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal)];

    private static readonly EgressSnapshot Seed = EgressSnapshot.Create(SeedFiles.SelectMany(f => ManifestReader.Read(File.ReadAllText(f))));

    private static Task<string> MetricsAsync(WebhookServer server) => server.Client.GetStringAsync("/metrics");

    private static async Task<bool> MetricIsAsync(WebhookServer server, string line) =>
        (await MetricsAsync(server)).Contains($"\n{line}\n", StringComparison.Ordinal);

    [Theory]
    [InlineData("se-10000-identical-hosts.json", false, 403)] // EGW210: Istio's CRD allows 256 hosts
    [InlineData("gateway-8000-server-hosts.json", true, null)]
    [InlineData("mesh-alias-bomb.json", false, 403)] // EGW117: a mesh config Istio cannot load
    [InlineData("mesh-delete-null-data-mesh.json", true, null)]
    [InlineData("lone-surrogate.json", false, 422)]
    [InlineData("bad-utf8.json", false, 422)]
    public async Task Validate_IssueInputs_AnsweredWithTheRightOutcome(string file, bool allowed, int? code)
    {
        await using var server = await WebhookServer.StartAsync();
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Hostile(file)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await server.Client.PostAsync("/validate?timeout=5s", content);
        var result = new AdmissionResult(response.StatusCode, await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal(allowed, result.Allowed);
        Assert.Equal(code, result.StatusCode);
        // one line: the reason of a 422; after its summary line, the one finding of a 403
        Assert.DoesNotContain("\n", code == 403 ? result.StatusMessage!.Split('\n', 2)[1] : result.StatusMessage ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateDirectory_SymlinkLoops_AreWalkedOnce_AndReloadsGoOn()
    {
        await using var server = await WebhookServer.StartAsync();
        var sub = Directory.CreateDirectory(Path.Combine(server.StateDirectory, "sub")).FullName;
        File.CreateSymbolicLink(Path.Combine(sub, "a"), "..");
        File.CreateSymbolicLink(Path.Combine(sub, "b"), "..");
        Directory.CreateSymbolicLink(Path.Combine(server.StateDirectory, "again"), server.StateDirectory);
        await File.WriteAllTextAsync(Path.Combine(sub, "later.yaml"), """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: later, namespace: default}
            spec: {hosts: [later.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
            """);

        Assert.True(await WebhookServer.EventuallyAsync(() => MetricIsAsync(server, $"egress_webhook_snapshot_objects {Seed.Count + 1}"), TimeSpan.FromSeconds(15)),
            "the state with symlink loops did not load once: " + (await MetricsAsync(server)).Split('\n').FirstOrDefault(l => l.StartsWith("egress_webhook_snapshot_objects ", StringComparison.Ordinal)));
        Assert.True(await MetricIsAsync(server, "egress_webhook_snapshot_load_failing 0"));

        File.Delete(Path.Combine(sub, "later.yaml"));
        Assert.True(await WebhookServer.EventuallyAsync(() => MetricIsAsync(server, $"egress_webhook_snapshot_objects {Seed.Count}"), TimeSpan.FromSeconds(15)),
            "reloads stopped");
    }

    [Fact]
    public async Task StateDirectory_AliasBomb_KeepsTheLastGoodSnapshot_AndKeepsAnswering()
    {
        await using var server = await WebhookServer.StartAsync();
        File.Copy(Hostile("alias-bomb.yaml"), Path.Combine(server.StateDirectory, "99-bomb.yaml"));

        Assert.True(await WebhookServer.EventuallyAsync(() => MetricIsAsync(server, "egress_webhook_snapshot_load_failing 1"), TimeSpan.FromSeconds(15)),
            "the bomb was not reported");
        Assert.True(await MetricIsAsync(server, $"egress_webhook_snapshot_objects {Seed.Count}"));
        var ok = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("after-bomb")));
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.True(ok.Allowed);
        Assert.Equal("ready", (await server.Client.GetStringAsync("/readyz")).TrimEnd());
    }

    [Fact]
    public async Task StateDirectory_AliasBombAtStart_NotReady_NoCrash()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: new Dictionary<string, string> { ["bomb.yaml"] = await File.ReadAllTextAsync(Hostile("alias-bomb.yaml")) });

        using var ready = await server.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var answer = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("v")));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.False(answer.Allowed);
        Assert.Contains("no snapshot", answer.StatusMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void StateFiles_TooMany_OneLineError()
    {
        var dir = Directory.CreateTempSubdirectory("egw-many-").FullName;
        try
        {
            for (var i = 0; i <= Shared.ManifestFiles.MaxFiles; i++)
            {
                File.WriteAllText(Path.Combine(dir, $"f{i}.yaml"), "");
            }

            var ex = Assert.Throws<IOException>(() => Shared.ManifestFiles.InDirectory(dir));
            Assert.Contains($"more than {Shared.ManifestFiles.MaxFiles} manifest files", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Seeded mutations of reviews of every kind, decided in process by the server's parser and the real handler
    /// (20,000), and state files through the manifest reader (5,000); a subset of the reviews goes over HTTPS.</summary>
    [Fact]
    public async Task Fuzz_MutatedReviewsAndStateFiles_NoEscapingException_No5xx_WithinTheDeadline()
    {
        var random = new Random(20261202);
        var bodies = Mutations(random, 20_000).ToList();
        var budget = TimeSpan.FromSeconds(2);
        var problems = new List<string>();
        foreach (var body in bodies)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                var parsed = AdmissionBody.Parse(new ReadOnlySequence<byte>(body));
                if (parsed.Review is not { Request: { } request } review)
                {
                    if (parsed.StatusCode != 400 || parsed.Reason.Contains('\n', StringComparison.Ordinal))
                    {
                        problems.Add($"refused with {parsed.StatusCode}: {parsed.Reason}");
                    }

                    continue;
                }

                using var deadline = new CancellationTokenSource(budget);
                foreach (var decision in new[]
                         {
                             AdmissionHandler.Default.Validate(request, Seed, AdmissionSettings.Default, deadline.Token),
                             AdmissionHandler.Default.Mutate(request, Seed, AdmissionSettings.Default, deadline.Token),
                         })
                {
                    _ = JsonSerializer.SerializeToUtf8Bytes(review.Answer(decision.Response), AdmissionJsonContext.Default.AdmissionReview);
                    if (decision.Outcome == AdmissionOutcome.Failed || decision.Response.Status?.Code >= 500)
                    {
                        problems.Add($"{decision.Outcome} {decision.Response.Status?.Message ?? string.Join(' ', decision.Response.Warnings ?? [])}");
                    }
                }
            }
            catch (Exception ex)
            {
                problems.Add($"{ex.GetType().Name}: {ex.Message} at {ex.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("EgressWebhook", StringComparison.Ordinal))?.Trim()}");
            }

            if (Stopwatch.GetElapsedTime(start) > budget * 2)
            {
                problems.Add($"took {Stopwatch.GetElapsedTime(start).TotalMilliseconds} ms");
            }
        }

        var files = 0;
        foreach (var text in StateMutations(random, 5_000))
        {
            files++;
            try
            {
                _ = ManifestReader.Read(text);
            }
            catch (ManifestException ex) when (!ex.Describe().Contains('\n', StringComparison.Ordinal))
            {
            }
            catch (Exception ex)
            {
                problems.Add($"state file: {ex.GetType().Name}: {ex.Message} at {ex.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("EgressWebhook", StringComparison.Ordinal))?.Trim()}");
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n" + string.Join("\n", problems.Distinct().Take(15)));
        Assert.Equal(20_000, bodies.Count);
        Assert.Equal(5_000, files);

        await using var server = await WebhookServer.StartAsync();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(bodies.Where((_, i) => i % 40 == 0), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (body, ct) =>
        {
            foreach (var path in new[] { "/validate?timeout=2s", "/mutate?timeout=2s" })
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await server.Client.PostAsync(path, content, ct);
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("response");
                    Assert.False(answer.TryGetProperty("status", out var s) && s.GetProperty("code").GetInt32() >= 500, answer.GetRawText());
                }
            }
        });

        Assert.Equal(1_000, statuses.Count);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"HTTP {(int)s}"));
    }

    /// <summary>Reviews of the seed's objects and of small hostile ones, each mutated once: a value replaced by another
    /// type, null, bad text or a long list, a key dropped, the kind swapped, or the bytes damaged.</summary>
    private static IEnumerable<byte[]> Mutations(Random random, int count)
    {
        var objects = SeedFiles.SelectMany(f => YamlJson.ParseDocuments(File.ReadAllText(f))).Select(d => JsonNode.Parse(d.Json.GetRawText())!).ToList();
        objects.Add(JsonNode.Parse(File.ReadAllText(Hostile("mesh-delete-null-data-mesh.json")))!["request"]!["oldObject"]!);
        var kinds = new[] { ("networking.istio.io/v1", "ServiceEntry"), ("networking.istio.io/v1", "Gateway"), ("networking.istio.io/v1", "VirtualService"),
            ("networking.istio.io/v1", "DestinationRule"), ("networking.istio.io/v1", "Sidecar"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Namespace") };
        var operations = new[] { "CREATE", "UPDATE", "DELETE" };
        for (var i = 0; i < count; i++)
        {
            var obj = objects[random.Next(objects.Count)].DeepClone();
            var op = operations[random.Next(operations.Length)];
            var mutation = random.Next(9);
            if (mutation < 6)
            {
                Mutate(random, obj, mutation, kinds);
            }

            var json = Review(op, op == "DELETE" ? null : obj, op == "CREATE" ? null : obj.DeepClone());
            var bytes = Encoding.UTF8.GetBytes(json.Replace("@@LONE@@", "\\ud800", StringComparison.Ordinal));
            bytes = mutation switch
            {
                6 => Replace(bytes, "@@BAD@@"u8, [0xC3, 0x28, 0xFF]),
                7 when bytes.Length > 10 => Damage(random, bytes),
                _ => Replace(bytes, "@@BAD@@"u8, [0xED, 0xA0, 0x80]),
            };
            yield return bytes;
        }
    }

    /// <summary>A review as <see cref="Reviews.Create"/> makes it, reading kind and name from an object that may be damaged.</summary>
    private static string Review(string operation, JsonNode? obj, JsonNode? old)
    {
        var subject = obj ?? old!;
        static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var apiVersion = Text(subject["apiVersion"]) ?? "";
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var metadata = subject["metadata"] as JsonObject;
        var request = new JsonObject
        {
            ["uid"] = "fuzz",
            ["kind"] = new JsonObject { ["group"] = slash < 0 ? "" : apiVersion[..slash], ["version"] = apiVersion[(slash + 1)..], ["kind"] = Text(subject["kind"]) ?? "" },
            ["name"] = Text(metadata?["name"]),
            ["namespace"] = Text(metadata?["namespace"]) ?? "default",
            ["operation"] = operation,
            ["userInfo"] = new JsonObject { ["username"] = "fuzz" },
            ["object"] = obj,
            ["oldObject"] = old,
        };
        return new JsonObject { ["apiVersion"] = Reviews.V1, ["kind"] = "AdmissionReview", ["request"] = request }.ToJsonString();
    }

    private static void Mutate(Random random, JsonNode root, int how, (string ApiVersion, string Kind)[] kinds)
    {
        var nodes = new List<(JsonNode Parent, object Key)>();
        Collect(root, nodes);
        if (nodes.Count == 0)
        {
            return;
        }

        var (parent, key) = nodes[random.Next(nodes.Count)];
        JsonNode? value = how switch
        {
            0 => null,
            1 => random.Next(4) switch { 0 => JsonValue.Create(-1), 1 => JsonValue.Create(true), 2 => JsonValue.Create(1e300), _ => JsonValue.Create(long.MaxValue) },
            2 => JsonValue.Create(random.Next(3) switch { 0 => "@@LONE@@.example.com", 1 => "@@BAD@@", _ => new string('x', 5000) }),
            3 => new JsonArray([.. Enumerable.Range(0, random.Next(1, 200)).Select(_ => JsonValue.Create(random.Next(2) == 0 ? "*.example.com" : "*example.com"))]),
            4 => new JsonObject { ["x"] = new JsonArray(null, 1, "a") },
            _ => null,
        };

        if (how == 5)
        {
            var (apiVersion, kind) = kinds[random.Next(kinds.Length)];
            root["apiVersion"] = apiVersion;
            root["kind"] = kind;
            return;
        }

        if (key is string name)
        {
            if (how == 4 && random.Next(2) == 0)
            {
                parent.AsObject().Remove(name);
            }
            else
            {
                parent[name] = value;
            }
        }
        else
        {
            parent[(int)key] = value;
        }
    }

    private static void Collect(JsonNode node, List<(JsonNode, object)> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    into.Add((o, k));
                    if (v is not null)
                    {
                        Collect(v, into);
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    into.Add((a, i));
                    if (a[i] is { } v)
                    {
                        Collect(v, into);
                    }
                }

                break;
        }
    }

    private static byte[] Replace(byte[] bytes, ReadOnlySpan<byte> marker, byte[] with)
    {
        var at = bytes.AsSpan().IndexOf(marker);
        return at < 0 ? bytes : [.. bytes.AsSpan(0, at), .. with, .. bytes.AsSpan(at + marker.Length)];
    }

    private static byte[] Damage(Random random, byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        }

        return random.Next(3) == 0 ? copy[..random.Next(copy.Length)] : copy;
    }

    /// <summary>The seed's files with YAML's special characters, aliases, indentation and long lines thrown in.</summary>
    private static IEnumerable<string> StateMutations(Random random, int count)
    {
        var texts = SeedFiles.Select(File.ReadAllText).Append(File.ReadAllText(Hostile("alias-bomb.yaml"))).ToArray();
        var inserts = new[] { "&a ", "*a", "*b ", "[", "]", "{", "}", ": ", "- ", "!!str ", "!!binary ", "? ", "|", ">-", "\t", "\n  ", "\n", "'", "\"", "\\u", "%YAML 1.1\n", "---\n", "...\n", "<<: *a\n", "\ud800", "~", "0x1F", "1e999" };
        for (var i = 0; i < count; i++)
        {
            var sb = new StringBuilder(texts[random.Next(texts.Length)]);
            for (var n = random.Next(1, 5); n > 0; n--)
            {
                var at = random.Next(sb.Length + 1);
                if (random.Next(4) == 0 && sb.Length > 0)
                {
                    sb.Remove(Math.Min(at, sb.Length - 1), 1);
                }
                else
                {
                    sb.Insert(at, inserts[random.Next(inserts.Length)]);
                }
            }

            yield return sb.ToString();
        }
    }
}
