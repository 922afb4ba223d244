using System.Text.Json.Nodes;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Audit;

/// <summary>Who opened what: each decision's audit line names the user, the namespace and the external hosts and ports the
/// change adds or removes; a policy's break-glass exception and an Audit policy's findings are recorded there.</summary>
public sealed class PolicyAuditTests
{
    private const string State = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: default
        ---
        apiVersion: egress.webhook.dev/v1alpha1
        kind: EgressPolicy
        metadata:
          name: allow-list
        spec:
          namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: default
          allow:
          - hosts: ["*.example.com"]
            ports: [443]
          exceptions:
            groups: [platform-admins]
        """;

    private static JsonNode Entry(string name, params string[] hosts) => new JsonObject
    {
        ["apiVersion"] = "networking.istio.io/v1",
        ["kind"] = "ServiceEntry",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" },
        ["spec"] = new JsonObject
        {
            ["hosts"] = new JsonArray(hosts.Select(h => (JsonNode)JsonValue.Create(h)!).ToArray()),
            ["ports"] = new JsonArray(new JsonObject { ["number"] = 443, ["name"] = "tls", ["protocol"] = "TLS" }),
            ["resolution"] = "DNS",
        },
    };

    private static string As(string review, string user, params string[] groups)
    {
        var node = JsonNode.Parse(review)!;
        node["request"]!["userInfo"] = new JsonObject { ["username"] = user, ["groups"] = new JsonArray(groups.Select(g => (JsonNode)JsonValue.Create(g)!).ToArray()) };
        return node.ToJsonString();
    }

    private static string[] Strings(JsonNode? node) => node is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : [];

    [Fact]
    public async Task AuditLine_RecordsHostDelta_DenialAndBreakGlass()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: new Dictionary<string, string> { ["state.yaml"] = State });

        var update = await server.PostAsync(Reviews.Create("UPDATE", Entry("api", "a.example.com", "b.example.com"), Entry("api", "a.example.com", "c.example.com"), uid: "update"));
        var delete = await server.PostAsync(Reviews.Create("DELETE", null, Entry("old", "d.example.com"), uid: "delete"));
        var denied = await server.PostAsync(As(Reviews.Create("CREATE", Entry("other", "api.other.com"), uid: "denied"), "alice", "team-a"));
        var excepted = await server.PostAsync(As(Reviews.Create("CREATE", Entry("other", "api.other.com"), uid: "excepted"), "bob", "system:authenticated", "platform-admins"));
        await server.StopAsync(); // drains the writer

        Assert.True(update.Allowed);
        Assert.True(delete.Allowed);
        Assert.False(denied.Allowed);
        Assert.Contains("EGW301 ServiceEntry default/other", denied.StatusMessage!, StringComparison.Ordinal);
        Assert.True(excepted.Allowed, excepted.StatusMessage);
        Assert.Empty(excepted.Warnings);

        var lines = (await File.ReadAllLinesAsync(server.AuditFile)).Select(l => JsonNode.Parse(l)!.AsObject()).ToDictionary(r => r["uid"]!.GetValue<string>());
        Assert.Equal(4, lines.Count);

        Assert.Equal(["b.example.com:443"], Strings(lines["update"]["hostsAdded"]));
        Assert.Equal(["c.example.com:443"], Strings(lines["update"]["hostsRemoved"]));
        Assert.Equal("default", lines["update"]["namespace"]!.GetValue<string>());

        Assert.Null(lines["delete"]["hostsAdded"]);
        Assert.Equal(["d.example.com:443"], Strings(lines["delete"]["hostsRemoved"]));

        Assert.Equal("alice", lines["denied"]["user"]!.GetValue<string>());
        Assert.False(lines["denied"]["allowed"]!.GetValue<bool>());
        Assert.Equal(["EGW301"], Strings(lines["denied"]["rules"]));
        Assert.Equal(["api.other.com:443"], Strings(lines["denied"]["hostsAdded"]));
        Assert.Null(lines["denied"]["exceptions"]);

        Assert.Equal("bob", lines["excepted"]["user"]!.GetValue<string>());
        Assert.True(lines["excepted"]["allowed"]!.GetValue<bool>());
        Assert.Equal(["allow-list"], Strings(lines["excepted"]["exceptions"]));
        Assert.Equal(["EGW301"], Strings(lines["excepted"]["recorded"]));
        Assert.Equal(["api.other.com:443"], Strings(lines["excepted"]["hostsAdded"]));
    }

    [Fact]
    public async Task AuditLine_ThousandsOfHosts_NamesTheFirstAndCountsTheRest()
    {
        // EGW210 off (CRDs without maxItems): with it an error, 5,000 hosts (Istio's CRD allows 256) are refused with no host lists
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:Rules:EGW210"] = "Off" },
            stateFiles: new Dictionary<string, string> { ["state.yaml"] = State });
        var hosts = Enumerable.Range(0, 5_000).Select(i => $"h{i}.example.com").ToArray();

        await server.PostAsync(Reviews.Create("CREATE", Entry("many", hosts), uid: "many"));
        await server.StopAsync();

        var line = Assert.Single(await File.ReadAllLinesAsync(server.AuditFile));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(line) <= EgressWebhook.Server.Audit.AuditFields.MaxLineBytes);
        var record = JsonNode.Parse(line)!;
        var added = Strings(record["hostsAdded"]);
        Assert.InRange(added.Length, 2, 10);
        Assert.Equal("h0.example.com:443", added[0]);
        Assert.Equal($"… and {5_000 - (added.Length - 1)} more", added[^1]);
        Assert.Contains("hostsAdded", Strings(record["truncated"]));
    }
}
