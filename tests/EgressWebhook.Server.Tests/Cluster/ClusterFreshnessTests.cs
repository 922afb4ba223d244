using System.Net;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>The webhook host in cluster mode against the fake API server behaving as kube-apiserver v1.28 on etcd
/// defaults was measured to: no bookmark for a kind with no changes, watches ended at their <c>timeoutSeconds</c>,
/// and (where set) a delay between a write and its watch event. API server and webhook share a fake clock, which the
/// tests advance: minutes pass in milliseconds, and a delayed watch event never arrives unless the clock moves.</summary>
public sealed class ClusterFreshnessTests
{
    private const string Host = "api.example.com";

    /// <summary>Production watch settings (5-10 min server timeouts, 30 s grace, stale after 60 s), test backoff.</summary>
    private static readonly Dictionary<string, string> ProductionWatchSettings = new()
    {
        ["Webhook:Cluster:WatchTimeoutSeconds"] = "300",
        ["Webhook:Cluster:WatchGraceSeconds"] = "30",
        ["Webhook:Cluster:StaleAfterSeconds"] = "60",
        ["Webhook:Enforcement"] = "Strict",
    };

    /// <summary>These tests judge freshness by denials that rest on a missing object (EGW101, EGW104, EGW113): under the
    /// default order-tolerant enforcement they would be admitted with a warning, so they run strict.</summary>
    private static readonly Dictionary<string, string> Strict = new() { ["Webhook:Enforcement"] = "Strict" };

    [Fact]
    public async Task QuietCluster_StaysFreshAndReadyThroughThirtyMinutes_WatchesRenewedAtTheirTimeout()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), ProductionWatchSettings, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");
        var listed = w.Source.Informers.ToDictionary(i => i.Resource.ApiVersion + "/" + i.Resource.Plural, i => i.ResourceVersion);

        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(30); elapsed += TimeSpan.FromSeconds(5))
        {
            time.Advance(TimeSpan.FromSeconds(5));
            // a watch the server ended at its timeout is re-established within real milliseconds: give the client the
            // moment to see the end before the clock moves on
            await Task.Delay(2);
            await ClusterHarness.WaitUntilAsync(() => w.Source.Informers.All(i => i.IsEstablished), "every watch re-established");
            Assert.False(w.Source.IsStale, $"stale after {elapsed.TotalMinutes:0.#} quiet minutes");
            if (elapsed.Seconds == 0 && elapsed.Minutes % 5 == 0)
            {
                await AssertCheckedAsync(w);
            }
        }

        await AssertCheckedAsync(w);
        foreach (var informer in w.Source.Informers)
        {
            var plural = informer.Resource.Plural;
            var apiVersion = informer.Resource.ApiVersion;
            var starts = w.Api.WatchStarts(plural, apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : null);
            // 30 minutes of 5-10 minute watches: at least 3 renewals, each from the list's resourceVersion (nothing changed)
            Assert.True(starts.Count >= 4, $"{plural}: {starts.Count} watches");
            Assert.All(starts, rv => Assert.Equal(listed[apiVersion + "/" + plural], rv));
            Assert.Equal(1, informer.Lists); // no re-list (the server's own count includes the checks' direct reads)
        }
    }

    [Fact]
    public async Task ApiServerRefusingReads_MakesCacheStale_AndReadyzFailsWhenDecisionsAreRefused()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), ProductionWatchSettings, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");

        w.Api.RefuseReads("gateways");
        w.Api.DropWatches("gateways");
        time.Advance(TimeSpan.FromSeconds(50));
        await Task.Delay(100);
        Assert.False(w.Source.IsStale, "50 s of failures is within StaleAfter");
        await AssertCheckedAsync(w);

        await AdvanceUntilAsync(time, () => w.Source.IsStale, "staleness", TimeSpan.FromSeconds(1));
        var refused = await w.Webhook.PostAsync(Review());
        Assert.Equal(503, refused.StatusCode);
        Assert.Contains("cannot watch Gateway", refused.StatusMessage!, StringComparison.Ordinal);
        using (var notReady = await w.Webhook.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Contains("cannot watch Gateway", await notReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        w.Api.RefuseReads("gateways", refused: false);
        await AdvanceUntilAsync(time, () => !w.Source.IsStale, "recovery", TimeSpan.FromSeconds(1));
        await AssertCheckedAsync(w);
    }

    /// <summary>A server (or a proxy before it) that accepts every watch and ends it at once: each watch is "established"
    /// for an instant and delivers nothing. The kind must still turn stale after StaleAfter, not be reset by every try.</summary>
    [Fact]
    public async Task WatchesAcceptedAndEndedAtOnce_MakeTheKindStale_AfterStaleAfter()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), ProductionWatchSettings, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");

        w.Api.CloseWatchesAtOnce("gateways");
        w.Api.DropWatches("gateways");
        time.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(100);
        Assert.False(w.Source.IsStale, "30 s of dropped watches is within StaleAfter");

        await AdvanceUntilAsync(time, () => w.Source.IsStale, "staleness", TimeSpan.FromSeconds(1));
        using (var notReady = await w.Webhook.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        }

        w.Api.CloseWatchesAtOnce("gateways", closing: false);
        await AdvanceUntilAsync(time, () => !w.Source.IsStale, "recovery", TimeSpan.FromSeconds(1));
        await AssertCheckedAsync(w);
    }

    /// <summary>What was measured: a Gateway and a mesh leg without a gateway leg, applied together, were admitted
    /// because the Gateway's watch event came 40-80 ms after its write. Here the event never comes (the clock stands
    /// still), so only a read of the API server can see the Gateway.</summary>
    [Fact]
    public async Task GatewayAndMeshLegAppliedTogether_MeshLegJudgedWithTheGateway()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(WithoutGateway), Strict, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");
        w.Api.WatchEventDelay = TimeSpan.FromMilliseconds(100);

        // near miss: no Gateway selects the egress gateway's pods, so the leg is not part of an egress chain
        Assert.True((await w.Webhook.PostAsync(MeshLegReview())).Allowed);

        w.Api.Apply(EgressGateway);
        var meshLeg = await w.Webhook.PostAsync(MeshLegReview());

        Assert.Null(w.Webhook.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.Gateway, "default", "egress")));
        Assert.False(meshLeg.Allowed);
        Assert.Contains("EGW113", meshLeg.Rules);
        Assert.Contains("dies at Gateway default/egress", meshLeg.StatusMessage!, StringComparison.Ordinal);

        // and a VirtualService bound to the Gateway gets no "does not exist" for it, warning or error
        var gatewayLeg = await w.Webhook.PostAsync(Reviews.Create("CREATE", Node(GatewayLeg)));
        Assert.True(gatewayLeg.Allowed, gatewayLeg.StatusMessage);
        Assert.DoesNotContain("EGW104", gatewayLeg.Rules);
    }

    [Fact]
    public async Task MissingGateway_InClusterMode_IsDenied_EvenWhenTheClusterHasNoGatewayAtAll()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(WithoutGateway), Strict, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");

        var result = await w.Webhook.PostAsync(Reviews.Create("CREATE", Node(GatewayLeg)));

        Assert.False(result.Allowed);
        Assert.Contains("EGW104", result.Rules);
        Assert.Contains("Gateway default/egress does not exist", result.StatusMessage!, StringComparison.Ordinal);
    }

    /// <summary>What was measured: a Namespace opted in by label and a ServiceEntry in it, applied together; the entry
    /// was stored unpatched. Here the Namespace's watch event never comes; the mutation reads the Namespace.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)] // near miss: the new namespace has no opt-in label
    public async Task NamespaceOptInAppliedTogetherWithTheEntry_EntryIsRouted(bool labelled)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(WithoutGateway), Strict, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");
        w.Api.WatchEventDelay = TimeSpan.FromMilliseconds(100);

        w.Api.Apply($$"""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              labels: {{{(labelled ? "egress.istio.io/gateway: istio-system.istio-egressgateway" : "team: shop")}}}
            """);
        var entry = Node(ClusterYaml.ServiceEntry("stripe", "api.stripe.com").Replace("namespace: default", "namespace: shop", StringComparison.Ordinal));
        var result = await w.Webhook.PostAsync(Reviews.Create("CREATE", entry), "/mutate");

        Assert.Null(w.Webhook.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.Namespace, "", "shop")));
        Assert.True(result.Allowed);
        Assert.Equal(labelled, result.Response.TryGetProperty("patch", out _));
    }

    private const string EgressGateway = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: egress, namespace: default}
        spec:
          selector: {istio: egressgateway}
          servers:
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: [api.example.com]
            tls: {mode: PASSTHROUGH}
        """;

    private const string GatewayLeg = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: api-gateway-leg, namespace: default}
        spec:
          hosts: [api.example.com]
          gateways: [egress]
          tls:
          - match: [{gateways: [egress], port: 443, sniHosts: [api.example.com]}]
            route: [{destination: {host: api.example.com, port: {number: 443}}}]
        """;

    private const string MeshLeg = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: api-mesh-leg, namespace: default}
        spec:
          hosts: [api.example.com]
          gateways: [mesh]
          tls:
          - match: [{gateways: [mesh], port: 443, sniHosts: [api.example.com]}]
            route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}}}]
        """;

    /// <summary>The egress gateway's Service, a ServiceEntry for <see cref="Host"/>, REGISTRY_ONLY; no Gateway.</summary>
    private static string WithoutGateway => string.Join("\n---\n",
        ClusterYaml.MeshRegistryOnly, ClusterYaml.Namespaces, ClusterYaml.EgressGatewayService, ClusterYaml.ServiceEntry("api", Host));

    private static string MeshLegReview() => Reviews.Create("CREATE", Node(MeshLeg));

    /// <summary>A VirtualService for a host without ServiceEntry: checked, EGW101 under REGISTRY_ONLY (not 503).</summary>
    private static string Review() => Reviews.Create("CREATE", Node(ClusterYaml.VirtualService("other", "other.example.com")));

    private static async Task AssertCheckedAsync(ClusterWebhook w)
    {
        var result = await w.Webhook.PostAsync(Review());
        Assert.True(result.StatusCode == 403, $"{result.StatusCode}: {result.StatusMessage} (synced {w.Source.IsSynced}, stale {w.Source.IsStale}: " +
            string.Join(", ", w.Source.Informers.Select(i => $"{i.Resource.KindName} synced={i.HasSynced} established={i.IsEstablished}")) + ")");
        Assert.Contains("EGW101", result.Rules);
        using var ready = await w.Webhook.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    /// <summary>Advances the fake clock in <paramref name="step"/>s (default 10 ms, about real time: a slow request on
    /// a busy machine must not outlive its fake-clock timeout), letting real time pass for the HTTP traffic in
    /// between, until <paramref name="condition"/> holds.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> condition, string what, TimeSpan? step = null)
    {
        for (var i = 0; i < 2000; i++)
        {
            if (condition())
            {
                return;
            }

            time.Advance(step ?? TimeSpan.FromMilliseconds(10));
            await Task.Delay(10);
        }

        throw new TimeoutException($"timed out waiting for {what}");
    }

    private static JsonNode Node(string yaml) => JsonNode.Parse(YamlJson.ParseDocuments(yaml).Single().Json.GetRawText())!;
}
