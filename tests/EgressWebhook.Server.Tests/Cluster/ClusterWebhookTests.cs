using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>End to end: the real webhook host with <c>Webhook:Source=Cluster</c> over a kubeconfig, admissions posted
/// over HTTPS, the cluster's state changed on the fake API server.</summary>
public sealed class ClusterWebhookTests(ITestOutputHelper output)
{
    private const string Host = "api.example.com";

    // these tests are about denials that rest on a missing object (EGW101) and the cache's reads behind them: Strict,
    // where such a denial stands (Tolerant admits it with a warning, see IncompleteChainRecheckTests)
    private static readonly Dictionary<string, string> Strict = new() { ["Webhook:Enforcement"] = "Strict" };

    private static string VirtualServiceReview(string uid = "vs") => Reviews.Create("CREATE", Node(ClusterYaml.VirtualService("api", Host)), uid: uid);

    [Fact]
    public async Task Validate_HostWithoutServiceEntry_DeniedWithEgw101_ThenAllowedWithinOneSecondOfItsCreation()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), Strict); // mesh config REGISTRY_ONLY
        await w.WaitForServerStateAsync();

        var denied = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.False(denied.Allowed);
        Assert.Equal(403, denied.StatusCode);
        Assert.Contains("EGW101", denied.Rules);
        Assert.Contains("EGW101 VirtualService default/api", denied.StatusMessage!, StringComparison.Ordinal);

        w.Api.Apply(ClusterYaml.ServiceEntry("api", Host));
        var clock = Stopwatch.StartNew();
        AdmissionResult result;
        do
        {
            result = await w.Webhook.PostAsync(VirtualServiceReview());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"still denied {clock.Elapsed.TotalMilliseconds:F0} ms after the ServiceEntry was created: {result.StatusMessage}");
        }
        while (!result.Allowed);

        output.WriteLine($"allowed {clock.Elapsed.TotalMilliseconds:F1} ms after the ServiceEntry was created");
        Assert.Empty(result.Rules);

        // the first allowed answer may come from the direct read; the cache itself must catch up within the second too
        var key = new ObjectKey(ResourceKind.ServiceEntry, "default", "api");
        while (w.Webhook.Store.Current.Snapshot.Find(key) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), "the webhook's cache lacks the ServiceEntry one second after its creation");
            await Task.Delay(5);
        }

        output.WriteLine($"in the webhook's cache {clock.Elapsed.TotalMilliseconds:F1} ms after the ServiceEntry was created");
        Assert.True((await w.Webhook.PostAsync(VirtualServiceReview())).Allowed);
    }

    [Fact]
    public async Task Validate_ServiceEntryOnServerButNotInCache_AllowedThroughTheDirectRead()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), Strict);
        await w.WaitForServerStateAsync();

        // the ServiceEntry watch goes silent: the cache lags the API server
        w.Api.StallNewWatches = true;
        w.Api.StallWatches("serviceentries");
        w.Api.Apply(ClusterYaml.ServiceEntry("api", Host));
        // the stalled watch held the ADDED event back: the cache cannot have it from the watch
        await ClusterHarness.WaitUntilAsync(() => w.Api.WithheldEvents("serviceentries") >= 1, "the stalled watch to withhold the ServiceEntry");
        var key = new ObjectKey(ResourceKind.ServiceEntry, "default", "api");
        Assert.Null(w.Webhook.Store.Current.Snapshot.Find(key));
        var lists = w.Api.ListCount("serviceentries");

        var result = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.True(result.Allowed, result.StatusMessage);
        Assert.Empty(result.Rules);
        Assert.Equal(lists + 1, w.Api.ListCount("serviceentries")); // one direct read of ServiceEntries
        Assert.Null(w.Webhook.Store.Current.Snapshot.Find(key)); // the cache itself still lags
    }

    [Fact]
    public async Task Validate_ServiceEntryInAnotherNamespace_FoundWhenTheNamespaceReadFindsNothing()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), Strict);
        await w.WaitForServerStateAsync();
        w.Api.StallNewWatches = true;
        w.Api.StallWatches("serviceentries");
        w.Api.Apply(ClusterYaml.ServiceEntry("api", Host).Replace("namespace: default", "namespace: istio-system", StringComparison.Ordinal));
        await ClusterHarness.WaitUntilAsync(() => w.Api.WithheldEvents("serviceentries") >= 1, "the stalled watch to withhold the ServiceEntry");
        var lists = w.Api.ListCount("serviceentries");

        var result = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.True(result.Allowed, result.StatusMessage);
        Assert.Equal(lists + 2, w.Api.ListCount("serviceentries")); // default first (nothing new there), then every namespace
        Assert.Null(w.Webhook.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "istio-system", "api"))); // the cache itself still lags
    }

    [Fact]
    public async Task Validate_DenialAnsweredInTheNamespace_MakesNoClusterWideList()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster), Strict);
        await w.WaitForServerStateAsync();
        w.Api.StallNewWatches = true;
        w.Api.StallWatches("serviceentries");
        w.Api.Apply(ClusterYaml.ServiceEntry("api", Host));
        var before = w.Api.ListScopes("serviceentries").Count;

        var result = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.True(result.Allowed, result.StatusMessage);
        Assert.Equal(["default"], w.Api.ListScopes("serviceentries").Skip(before));
    }

    // Tolerant (the default): a VirtualService whose ServiceEntry is missing is admitted with EGW101 as a warning,
    // which the reads confirm by counting (a list of one item) before listing
    [Fact]
    public async Task Validate_WarningAnsweredInTheNamespace_CountsAndListsOnlyThatNamespace()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster));
        await w.WaitForServerStateAsync();
        w.Api.StallNewWatches = true;
        w.Api.StallWatches("serviceentries");
        var missing = w.Api.ListScopes("serviceentries").Count;

        // really missing: the count in the namespace, then in every namespace, both as cached: no list
        var warned = await w.Webhook.PostAsync(VirtualServiceReview("warned"));
        Assert.True(warned.Allowed);
        Assert.Contains("EGW101", warned.Rules);
        Assert.Equal(["default", null], w.Api.ListScopes("serviceentries").Skip(missing));

        w.Api.Apply(ClusterYaml.ServiceEntry("api", Host));
        var before = w.Api.ListScopes("serviceentries").Count;
        var result = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.True(result.Allowed, result.StatusMessage);
        Assert.DoesNotContain("EGW101", result.Rules);
        // the count in default differs, default is listed and answers: nothing of every namespace is read
        Assert.Equal(["default", "default"], w.Api.ListScopes("serviceentries").Skip(before));
        Assert.Null(w.Webhook.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "api")));
    }

    [Fact]
    public async Task Validate_WarningAnsweredInAnotherNamespace_CountsThereFirst_ThenReadsEveryNamespace()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster));
        await w.WaitForServerStateAsync();
        w.Api.StallNewWatches = true;
        w.Api.StallWatches("serviceentries");
        w.Api.Apply(ClusterYaml.ServiceEntry("api", Host).Replace("namespace: default", "namespace: istio-system", StringComparison.Ordinal));
        var before = w.Api.ListScopes("serviceentries").Count;

        var result = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.True(result.Allowed, result.StatusMessage);
        Assert.DoesNotContain("EGW101", result.Rules);
        // default counted as cached; every namespace counted (one more), then listed
        Assert.Equal(["default", null, null], w.Api.ListScopes("serviceentries").Skip(before));
    }

    [Fact]
    public async Task Validate_GatewayNamedByTheRoute_ConfirmedByOneGet_NotAList()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(ClusterYaml.Cluster);
            api.Apply(ClusterYaml.ServiceEntry("api", Host));
        }, Strict);
        await w.WaitForServerStateAsync();
        var review = Reviews.Create("CREATE", Node(ClusterYaml.VirtualService("api", Host).Replace("spec:\n", "spec:\n  gateways: [istio-system/absent]\n", StringComparison.Ordinal)), uid: "gw");
        var lists = w.Api.ListCount("gateways");
        var gets = w.Api.GetCount("gateways");

        var denied = await w.Webhook.PostAsync(review);

        Assert.False(denied.Allowed);
        Assert.Contains("EGW104", denied.Rules);
        Assert.Equal(lists, w.Api.ListCount("gateways"));
        Assert.Equal(gets + 1, w.Api.GetCount("gateways")); // the 404 confirms the absence
    }

    [Fact]
    public async Task Readyz_FailsUntilSynced_AdmissionsAskToRetry_ThenNormalOnceSynced()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(ClusterYaml.Cluster);
            api.IstioVersions = []; // Istio's CRDs not served: the Istio kinds cannot sync
        }, Strict);

        for (var i = 0; i < 5; i++)
        {
            using var notReady = await w.Webhook.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            await Task.Delay(100);
        }

        var refused = await w.Webhook.PostAsync(VirtualServiceReview("r-1"));
        Assert.Equal(HttpStatusCode.OK, refused.Status);
        Assert.Equal("r-1", refused.Uid);
        Assert.False(refused.Allowed);
        Assert.Equal(503, refused.StatusCode);
        Assert.Equal("ServiceUnavailable", refused.Response.GetProperty("status").GetProperty("reason").GetString());
        Assert.Contains("retry", refused.StatusMessage!, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.StatusMessage!);
        Assert.Equal("unsynced", refused.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());

        var mutated = await w.Webhook.PostAsync(Reviews.Create("CREATE", Node(ClusterYaml.ServiceEntry("api", Host))), "/mutate");
        Assert.True(mutated.Allowed);
        Assert.False(mutated.Response.TryGetProperty("patch", out _));
        Assert.Contains("retry", Assert.Single(mutated.Warnings), StringComparison.Ordinal);

        w.Api.IstioVersions = ["v1"];
        await w.WaitForServerStateAsync();
        using var ready = await w.Webhook.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checkedNow = await w.Webhook.PostAsync(VirtualServiceReview());
        Assert.Equal(403, checkedNow.StatusCode);
        Assert.Contains("EGW101", checkedNow.Rules);
    }

    [Fact]
    public async Task WhenNotSyncedAllow_NotSynced_AllowedWithTheReasonAsWarning()
    {
        await using var w = await ClusterWebhook.StartAsync(
            api =>
            {
                api.Apply(ClusterYaml.Cluster);
                api.IstioVersions = [];
            },
            new Dictionary<string, string> { ["Webhook:Cluster:WhenNotSynced"] = "Allow" });

        var result = await w.Webhook.PostAsync(VirtualServiceReview());

        Assert.True(result.Allowed);
        var warning = Assert.Single(result.Warnings);
        Assert.StartsWith("egress check skipped: ", warning, StringComparison.Ordinal);
        Assert.Contains("retry", warning, StringComparison.Ordinal);
        Assert.Contains("egress_webhook_admission_requests_total{endpoint=\"validate\",kind=\"VirtualService\",operation=\"CREATE\",decision=\"unsynced\"} 1",
            await w.Webhook.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiServerGone_CacheStale_ValidateDeniedAskingToRetry()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster),
            new Dictionary<string, string> { ["Webhook:Cluster:StaleAfterSeconds"] = "1", ["Webhook:Cluster:RequestTimeoutSeconds"] = "1", ["Webhook:Enforcement"] = "Strict" });
        await w.WaitForServerStateAsync();
        Assert.Equal(403, (await w.Webhook.PostAsync(VirtualServiceReview())).StatusCode);

        await w.StopApiAsync();

        AdmissionResult? stale = null;
        Assert.True(await WebhookServer.EventuallyAsync(async () =>
        {
            stale = await w.Webhook.PostAsync(VirtualServiceReview());
            return stale.StatusCode == 503;
        }, TimeSpan.FromSeconds(20)), "the stale cache was still trusted");
        Assert.Contains("stale", stale!.StatusMessage!, StringComparison.Ordinal);
        Assert.Contains("retry", stale.StatusMessage!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_EntryThatIsTheParentOfAnHttpRoute_GetsNoRouting_Egw404FromTheClusterCache()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(ClusterYaml.Cluster);
            api.Apply($$"""
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: api, namespace: default}
                spec:
                  parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: api}]
                  rules: [{backendRefs: [{kind: Hostname, group: networking.istio.io, name: {{Host}}, port: 443}]}]
                """);
        });
        await w.WaitForServerStateAsync();
        var entry = Node(ClusterYaml.ServiceEntry("api", Host));
        entry["metadata"]!["annotations"] = new JsonObject { ["egress.istio.io/gateway"] = "istio-system/istio-egressgateway" };

        var result = await w.Webhook.PostAsync(Reviews.Create("CREATE", entry, uid: "m"), "/mutate");

        Assert.True(result.Allowed);
        Assert.Contains("EGW404", result.Rules);
        Assert.Contains(result.Warnings, x => x.StartsWith("EGW404 ServiceEntry default/api", StringComparison.Ordinal));
    }

    private static JsonNode Node(string yaml) => JsonNode.Parse(YamlJson.ParseDocuments(yaml).Single().Json.GetRawText())!;
}
