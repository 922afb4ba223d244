using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary><c>Webhook:Cluster:WhenNotSynced</c> as the admission endpoints apply it, with a cache health the test
/// controls (the state directory still provides the snapshot, so a decision that ignored the health would differ).</summary>
public sealed class CacheHealthTests
{
    private const string Reason = "the egress webhook cache has not synced yet (ServiceEntry); retry shortly";

    [Fact]
    public async Task Deny_NotSynced_ValidateRefusedWith503AskingToRetry_AuditAndMetricsSaySo()
    {
        var health = new FakeCacheHealth { Synced = false, Behavior = NotSyncedBehavior.Deny };
        var server = await Start(health);
        try
        {
            var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x"), uid: "n-1"));

            Assert.Equal(HttpStatusCode.OK, result.Status);
            Assert.Equal("n-1", result.Uid);
            Assert.False(result.Allowed);
            Assert.Equal(503, result.StatusCode);
            Assert.Equal("ServiceUnavailable", result.Response.GetProperty("status").GetProperty("reason").GetString());
            Assert.Equal($"egress check not run: {Reason}", result.StatusMessage);
            Assert.Contains("decision=\"unsynced\"} 1", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
        }
        finally
        {
            await server.StopAsync();
        }

        var record = JsonDocument.Parse(Assert.Single(await File.ReadAllLinesAsync(server.AuditFile))).RootElement;
        Assert.Equal("unsynced", record.GetProperty("decision").GetString());
        Assert.False(record.GetProperty("allowed").GetBoolean());
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Allow_Stale_ValidateAllowedUncheckedWithTheReasonAsWarning()
    {
        var health = new FakeCacheHealth { Stale = true, Behavior = NotSyncedBehavior.Allow, Reason = "the egress webhook cache is stale: cannot watch Gateway; retry shortly" };
        await using var server = await Start(health);

        // denied by the catalogue when checked: a Gateway that does not exist
        var result = await server.PostAsync(Reviews.Create("CREATE", BrokenVirtualService()));

        Assert.True(result.Allowed);
        Assert.Equal("egress check skipped: the egress webhook cache is stale: cannot watch Gateway; retry shortly", Assert.Single(result.Warnings));
        Assert.Empty(result.Rules);
    }

    [Fact]
    public async Task SyncedAndFresh_ChecksAsUsual()
    {
        var health = new FakeCacheHealth { Synced = false, Behavior = NotSyncedBehavior.Deny };
        // Strict: the missing Gateway (EGW104) denies rather than being awaited
        await using var server = await Start(health, new Dictionary<string, string> { ["Webhook:Enforcement"] = "Strict" });
        Assert.Equal(503, (await server.PostAsync(Reviews.Create("CREATE", BrokenVirtualService()))).StatusCode);

        health.Synced = true;

        var result = await server.PostAsync(Reviews.Create("CREATE", BrokenVirtualService()));
        Assert.False(result.Allowed);
        Assert.Equal(403, result.StatusCode);
        Assert.Contains("EGW104", result.Rules);
        Assert.True((await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("ok")))).Allowed);
    }

    [Fact]
    public async Task NotSynced_RequestsThatDoNotDependOnTheCluster_AnsweredAsUsual()
    {
        var health = new FakeCacheHealth { Synced = false, Behavior = NotSyncedBehavior.Deny };
        await using var server = await Start(health, new Dictionary<string, string> { ["Webhook:ExemptNamespaces:0"] = "sandbox" });
        var pod = JsonNode.Parse("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"}}""")!;
        var exempt = BrokenVirtualService();
        exempt["metadata"]!["namespace"] = "sandbox";
        var undecodable = Reviews.VirtualService("bad");
        undecodable["spec"]!["hosts"] = new JsonObject();

        var skipped = await server.PostAsync(Reviews.Create("CREATE", pod));
        var exempted = await server.PostAsync(Reviews.Create("CREATE", exempt));
        var invalid = await server.PostAsync(Reviews.Create("CREATE", undecodable));

        Assert.True(skipped.Allowed);
        Assert.Equal("skipped", skipped.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        Assert.True(exempted.Allowed);
        Assert.Equal("exempt", exempted.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        Assert.False(invalid.Allowed);
        Assert.Equal(422, invalid.StatusCode);
    }

    [Fact]
    public async Task Deny_NotSynced_DeleteRefusedOnlyWhenEgw114WouldBeAnError()
    {
        var health = new FakeCacheHealth { Synced = false, Behavior = NotSyncedBehavior.Deny };
        var review = Reviews.Create("DELETE", null, Reviews.VirtualService("x"));
        await using (var server = await Start(health))
        {
            var result = await server.PostAsync(review);

            Assert.True(result.Allowed);
            Assert.Equal($"egress check skipped: {Reason}", Assert.Single(result.Warnings));
            Assert.Equal("unsynced", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        }

        await using var strict = await Start(health, new Dictionary<string, string> { ["Webhook:Rules:EGW114"] = "Deny" });
        Assert.Equal(503, (await strict.PostAsync(review)).StatusCode);
    }

    [Fact]
    public async Task Mutate_NotSynced_AllowedWithoutPatchWithWarning_EvenWhenValidateDenies()
    {
        var health = new FakeCacheHealth { Synced = false, Behavior = NotSyncedBehavior.Deny };
        await using var server = await Start(health);
        var entry = JsonNode.Parse("""
            {"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry",
             "metadata":{"name":"api","namespace":"default","annotations":{"egress.istio.io/gateway":"istio-system/istio-egressgateway"}},
             "spec":{"hosts":["api.example.com"],"ports":[{"number":443,"protocol":"TLS"}]}}
            """)!;

        var result = await server.PostAsync(Reviews.Create("CREATE", entry), "/mutate");

        Assert.True(result.Allowed);
        Assert.False(result.Response.TryGetProperty("patch", out _));
        Assert.Equal($"egress defaults skipped: {Reason}", Assert.Single(result.Warnings));
        Assert.Equal("unsynced", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());

        health.Synced = true;
        Assert.True((await server.PostAsync(Reviews.Create("CREATE", entry), "/mutate")).Response.TryGetProperty("patch", out _));
    }

    private static Task<WebhookServer> Start(FakeCacheHealth health, IDictionary<string, string>? settings = null) =>
        WebhookServer.StartAsync(settings, services: s => s.AddSingleton<ICacheHealth>(health));

    /// <summary>A VirtualService bound to a Gateway that does not exist (EGW104, an error).</summary>
    private static JsonNode BrokenVirtualService()
    {
        var vs = Reviews.VirtualService("broken");
        vs["spec"]!["gateways"] = new JsonArray("no-such-gateway");
        return vs;
    }

    private sealed class FakeCacheHealth : ICacheHealth
    {
        public bool Synced { get; set; } = true;

        public bool Stale { get; init; }

        public NotSyncedBehavior Behavior { get; init; }

        public string Reason { get; init; } = CacheHealthTests.Reason;

        public bool IsSynced => Synced;

        public bool IsStale => Stale;

        public NotSyncedBehavior WhenNotSynced => Behavior;

        public string? Describe() => Synced && !Stale ? null : Reason;
    }
}
