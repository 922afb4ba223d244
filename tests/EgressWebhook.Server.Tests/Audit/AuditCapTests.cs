using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Audit;

/// <summary>Fields the caller sends (uid, user, groups, names) are capped in the audit line: a hostile review of almost
/// 3 MiB gets a line of a few KB that says what was cut, and an ordinary review's line is copied as sent.</summary>
public sealed class AuditCapTests
{
    [Fact]
    public async Task AuditLine_HugeFields_CappedToAFewKilobytes_AndSaysWhichWereCut()
    {
        await using var server = await WebhookServer.StartAsync();
        // characters the JSON writer escapes (6 bytes each) and plain ones, a surrogate pair on the cut
        string Huge(string unit, int count) => string.Concat(Enumerable.Repeat(unit, count));
        var review = JsonNode.Parse(Reviews.Create("CREATE", Reviews.VirtualService("x"), uid: "ordinary"))!;
        var request = review["request"]!;
        request["uid"] = Huge("u\"<😀", 20_000);
        request["name"] = Huge("n", 300_000);
        request["namespace"] = Huge("\u0001", 30_000);
        request["kind"]!["kind"] = Huge("K", 50_000);
        request["userInfo"] = new JsonObject
        {
            ["username"] = Huge("é", 100_000),
            ["groups"] = new JsonArray(Enumerable.Range(0, 5_000).Select(i => (JsonNode)JsonValue.Create($"group-{i}-{Huge("g", 100)}")!).ToArray()),
        };
        var body = review.ToJsonString();
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 2_000_000, 3 * 1024 * 1024);

        var hostile = await server.PostAsync(body);
        var plain = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("y"), uid: "plain-uid"));
        await server.StopAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, hostile.Status);
        var lines = await File.ReadAllLinesAsync(server.AuditFile);
        Assert.Equal(2, lines.Length);
        var capped = lines.Single(l => !l.Contains("plain-uid", StringComparison.Ordinal));
        var bytes = Encoding.UTF8.GetByteCount(capped);
        Assert.True(bytes <= EgressWebhook.Server.Audit.AuditFields.MaxLineBytes, $"audit line of {bytes} bytes");
        Assert.True(EgressWebhook.Server.Audit.AuditFields.MaxLineBytes <= 4608, "the cap is more than a few KB");
        var record = JsonDocument.Parse(capped).RootElement;
        Assert.Equal<string>(["uid", "user", "groups", "kind", "namespace", "name"],
            record.GetProperty("truncated").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.EndsWith("…", record.GetProperty("user").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("éé", record.GetProperty("user").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("nnnn", record.GetProperty("name").GetString(), StringComparison.Ordinal);
        var uid = record.GetProperty("uid").GetString()!;
        Assert.StartsWith("u\"<", uid, StringComparison.Ordinal);
        Assert.False(char.IsHighSurrogate(uid[^2]), "a surrogate pair was split");
        var groups = record.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!).ToList();
        Assert.InRange(groups.Count, 2, 32);
        Assert.StartsWith("group-0-", groups[0], StringComparison.Ordinal);
        Assert.Equal($"… and {5_000 - (groups.Count - 1)} more", groups[^1]);

        var ordinary = JsonDocument.Parse(lines.Single(l => l.Contains("plain-uid", StringComparison.Ordinal))).RootElement;
        Assert.False(ordinary.TryGetProperty("truncated", out _));
        Assert.Equal("tester", ordinary.GetProperty("user").GetString());
        Assert.Equal<string>(["system:authenticated", "team-a"], ordinary.GetProperty("groups").EnumerateArray().Select(g => g.GetString()!).ToArray());
        Assert.Equal("y", ordinary.GetProperty("name").GetString());
    }
}
