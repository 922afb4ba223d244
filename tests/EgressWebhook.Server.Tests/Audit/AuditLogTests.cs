using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Audit;

/// <summary>One JSON line per decision, under concurrency, without object bodies.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task AuditLog_ConcurrentRequests_ExactlyOneLinePerDecision()
    {
        var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);
        var audit = server.AuditFile;
        var uids = Enumerable.Range(0, 400).Select(i => $"uid-{i:000}").ToList();
        try
        {
            await Parallel.ForEachAsync(uids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (uid, _) =>
            {
                var deny = uid.EndsWith('7');
                var vs = deny ? Reviews.VirtualService("d", (AnnotationRule.Deny, "EGW104")) : Reviews.VirtualService("a");
                var result = await server.PostAsync(Reviews.Create("CREATE", vs, uid: uid, dryRun: uid.EndsWith('3')));
                Assert.Equal(uid, result.Uid);
                Assert.Equal(!deny, result.Allowed);
                if (uid.EndsWith('5'))
                {
                    await server.PostAsync("{not json"); // refused: no decision, no line
                }
            });
        }
        finally
        {
            await server.StopAsync(); // drains the writer
        }

        var lines = await File.ReadAllLinesAsync(audit);
        Assert.Equal(uids.Count, lines.Length);
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(uids.Order(StringComparer.Ordinal), records.Select(r => r.GetProperty("uid").GetString()!).Order(StringComparer.Ordinal));
        foreach (var r in records)
        {
            foreach (var field in new[] { "time", "uid", "user", "groups", "operation", "kind", "namespace", "name", "dryRun", "allowed", "rules", "latencyMs" })
            {
                Assert.True(r.TryGetProperty(field, out _), $"audit line lacks {field}");
            }

            var uid = r.GetProperty("uid").GetString()!;
            Assert.Equal(!uid.EndsWith('7'), r.GetProperty("allowed").GetBoolean());
            Assert.Equal(uid.EndsWith('3'), r.GetProperty("dryRun").GetBoolean());
            Assert.Equal(uid.EndsWith('7') ? ["EGW104"] : [], r.GetProperty("rules").EnumerateArray().Select(x => x.GetString()).ToArray());
            Assert.Equal("tester", r.GetProperty("user").GetString());
        }

        // no object body; the one host the line names is the external host the change opens (issue 15: "who opened what")
        Assert.DoesNotContain(lines, l => l.Contains("\"spec\"", StringComparison.Ordinal));
        foreach (var line in lines)
        {
            var record = JsonNode.Parse(line)!.AsObject();
            Assert.Equal(["google.com"], record["hostsAdded"]!.AsArray().Select(h => h!.GetValue<string>()));
            record.Remove("hostsAdded");
            Assert.DoesNotContain("google.com", record.ToJsonString(), StringComparison.Ordinal);
        }

        await server.DisposeAsync();
    }
}
