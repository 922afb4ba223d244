using System.Diagnostics;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>EgressPolicies live: the running webhook watches them and a change decides the next admission, no restart;
/// the EgressPolicy CRD itself installed or deleted on the running cluster is picked up by re-discovery.</summary>
public sealed class ClusterPolicyTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    private static string EntryReview(string host) =>
        Reviews.Create("CREATE", JsonNode.Parse(YamlJson.ParseDocuments(ClusterYaml.ServiceEntry("api", host)).Single().Json.GetRawText())!);

    /// <summary>Posts <paramref name="review"/> until <paramref name="done"/> holds, failing after <see cref="Within"/>.</summary>
    private static async Task<AdmissionResult> PostUntilAsync(ClusterWebhook w, string review, Func<AdmissionResult, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await w.Webhook.PostAsync(review);
            if (done(result))
            {
                return result;
            }

            if (clock.Elapsed > Within)
            {
                Assert.Fail($"{what}: not seen {Within.TotalSeconds:F0} s after the policy change (last answer: allowed={result.Allowed}, {result.StatusMessage})");
            }

            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Validate_PolicyCreatedChangedDeleted_EachChangeDecidesTheNextAdmissionWithoutRestart()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster));
        await w.WaitForServerStateAsync();
        Assert.Contains(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy && r.ApiVersion == "egress.webhook.dev/v1alpha1");
        var review = EntryReview("api.other.com");
        Assert.True((await w.Webhook.PostAsync(review)).Allowed, "no policy selects default yet");

        // created: Deny
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com"));
        var denied = await PostUntilAsync(w, review, r => !r.Allowed, "the new policy's denial");
        Assert.Equal(403, denied.StatusCode);
        Assert.Contains(RuleIds.PolicyHostNotAllowed, denied.Rules);
        Assert.Contains("EGW301 ServiceEntry default/api", denied.StatusMessage!, StringComparison.Ordinal);
        Assert.Contains("EgressPolicy allow-list", denied.StatusMessage!, StringComparison.Ordinal);
        Assert.True((await w.Webhook.PostAsync(EntryReview("api.example.com"))).Allowed, "a host the policy allows");

        // changed: Warn, the same host is now let through with a warning naming the policy
        w.Api.Apply(ClusterYaml.AllowListPolicy("Warn", "*.example.com"));
        var warned = await PostUntilAsync(w, review, r => r.Allowed, "the policy's change to Warn");
        Assert.Contains(RuleIds.PolicyHostNotAllowed, warned.Rules);
        Assert.Contains(warned.Warnings, m => m.Contains("EgressPolicy allow-list", StringComparison.Ordinal));

        // changed: the host is listed
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com", "api.other.com"));
        var listed = await PostUntilAsync(w, review, r => r.Allowed && !r.Rules.Contains(RuleIds.PolicyHostNotAllowed), "the host added to the policy");
        Assert.DoesNotContain(listed.Rules, r => r.StartsWith("EGW3", StringComparison.Ordinal));

        // narrowed again, then deleted
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com"));
        await PostUntilAsync(w, review, r => !r.Allowed, "the narrowed policy's denial");
        Assert.True(w.Api.Delete("egresspolicies", "", "allow-list"));
        var gone = await PostUntilAsync(w, review, r => r.Allowed, "the policy's deletion");
        Assert.DoesNotContain(gone.Rules, r => r.StartsWith("EGW3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cache_WithoutTheEgressPolicyCrd_SyncsWithoutPolicies()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(string.Join("\n---\n", ClusterYaml.MeshRegistryOnly, ClusterYaml.Namespaces));
            api.ServeEgressPolicies = false;
        });
        await w.WaitForServerStateAsync();

        Assert.True(w.Source.IsSynced);
        Assert.DoesNotContain(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy);
    }

    /// <summary>Re-discovery every 10 s on the fake clock; request timeouts long enough that a slow request on a busy
    /// machine does not outlive them while the clock is advanced.</summary>
    private static readonly Dictionary<string, string> Rediscovery = new()
    {
        ["Webhook:Cluster:RediscoverSeconds"] = "10",
        ["Webhook:Cluster:RequestTimeoutSeconds"] = "3600",
        ["Webhook:Cluster:StaleAfterSeconds"] = "60",
    };

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private static bool SnapshotHasPolicy(ClusterWebhook w) =>
        w.Webhook.Store.Current.Snapshot.Objects.Any(o => o.Key.Kind == ResourceKind.EgressPolicy);

    [Fact]
    public async Task Rediscovery_CrdInstalledWhileRunning_PolicyEnforcedWithoutRestart_AndThePendingKindNeverMakesTheCacheStale()
    {
        var time = Clock();
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(ClusterYaml.Cluster);
            api.ServeEgressPolicies = false;
        }, Rediscovery, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced, "the first sync");
        Assert.DoesNotContain(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy);
        var review = EntryReview("api.other.com");
        Assert.True((await w.Webhook.PostAsync(review)).Allowed, "no EgressPolicy CRD, no policy");

        // the platform team installs the CRD and a Deny policy; the new kind's list fails at first (500)
        w.Api.InstallCrds(EgressPolicy.Group);
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com"));
        w.Api.RefuseReads("egresspolicies");
        await AdvanceUntilAsync(time, () => w.Api.RefusedReads("egresspolicies") > 0, "a list of the new kind", TimeSpan.FromMilliseconds(100));
        await AdvanceAsync(time, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
        // 90 s of failing lists, past StaleAfterSeconds: the kinds already served stay synced and fresh
        Assert.True(w.Source.IsSynced, "a newly served kind that has not listed must not make the cache not synced");
        Assert.False(w.Source.IsStale, "a newly served kind that cannot list must not make the cache stale");
        Assert.Null(w.Source.Describe());
        Assert.DoesNotContain(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy);
        var pending = await w.Webhook.PostAsync(review);
        Assert.True(pending.Allowed, pending.StatusMessage);

        w.Api.RefuseReads("egresspolicies", refused: false);
        await AdvanceUntilAsync(time, () => SnapshotHasPolicy(w), "the policy in the snapshot", TimeSpan.FromMilliseconds(100));
        Assert.Contains(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy && r.ApiVersion == "egress.webhook.dev/v1alpha1");
        var denied = await w.Webhook.PostAsync(review);
        Assert.False(denied.Allowed);
        Assert.Contains(RuleIds.PolicyHostNotAllowed, denied.Rules);
        Assert.Contains("EgressPolicy allow-list", denied.StatusMessage!, StringComparison.Ordinal);
        Assert.True((await w.Webhook.PostAsync(EntryReview("api.example.com"))).Allowed, "a host the policy allows");
        await w.WaitForServerStateAsync();
    }

    [Fact]
    public async Task Rediscovery_CrdDeletedWhileRunning_PolicyNoLongerEnforced_EvenWhenTheWatchMissedTheDeletions()
    {
        var time = Clock();
        // the period is an hour: what drops the kind is the 404 its re-list gets, which re-discovers at once
        var settings = new Dictionary<string, string>(Rediscovery) { ["Webhook:Cluster:RediscoverSeconds"] = "3600" };
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", ClusterYaml.Cluster,
            ClusterYaml.AllowListPolicy("Deny", "*.example.com"))), settings, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced && SnapshotHasPolicy(w), "the first sync");
        var review = EntryReview("api.other.com");
        Assert.False((await w.Webhook.PostAsync(review)).Allowed, "the policy denies before the CRD is deleted");

        // the watch of the policies sees none of the DELETED events the CRD's deletion sends, then ends;
        // only dropping the kind takes its objects out of the snapshot
        w.Api.StallWatches("egresspolicies");
        w.Api.DeleteCrds(EgressPolicy.Group);
        var deleted = time.GetUtcNow();
        await AdvanceUntilAsync(time, () => !SnapshotHasPolicy(w), "the policy out of the snapshot", TimeSpan.FromMilliseconds(100));
        Assert.True(time.GetUtcNow() - deleted < TimeSpan.FromMinutes(1), $"dropped {time.GetUtcNow() - deleted} after the deletion");
        Assert.DoesNotContain(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy);
        var allowed = await w.Webhook.PostAsync(review);
        Assert.True(allowed.Allowed, allowed.StatusMessage);
        Assert.DoesNotContain(allowed.Rules, r => r.StartsWith("EGW3", StringComparison.Ordinal));

        // the other kinds are untouched, and a kind gone does not leave the cache stale
        await AdvanceAsync(time, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
        Assert.True(w.Source.IsSynced);
        Assert.False(w.Source.IsStale);
        await w.WaitForServerStateAsync();
    }

    [Fact]
    public async Task Rediscovery_ApiErrors_KeepTheKindsWatched()
    {
        var time = Clock();
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", ClusterYaml.Cluster,
            ClusterYaml.AllowListPolicy("Deny", "*.example.com"))), Rediscovery, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced && SnapshotHasPolicy(w), "the first sync");
        var watched = w.Source.Resources.ToHashSet();
        Assert.Contains(watched, r => r.Kind == ResourceKind.EgressPolicy);
        Assert.Contains(watched, r => r.Kind == ResourceKind.GatewayApiRoute);

        w.Api.FailOptionalDiscovery = true;
        await AdvanceUntilAsync(time, () => w.Api.FailedDiscoveries >= 3, "three failed re-discoveries", TimeSpan.FromMilliseconds(500));

        Assert.True(watched.SetEquals(w.Source.Resources), "a failed re-discovery must keep every kind watched");
        Assert.True(w.Source.IsSynced);
        Assert.False(w.Source.IsStale);
        var denied = await w.Webhook.PostAsync(EntryReview("api.other.com"));
        Assert.False(denied.Allowed);
        Assert.Contains(RuleIds.PolicyHostNotAllowed, denied.Rules);
    }

    private const string TlsRoute = """
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TLSRoute
        metadata: {name: cnn-tls, namespace: default}
        spec:
          parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
          hostnames: [edition.cnn.com]
          rules: [{backendRefs: [{kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 443}]}]
        """;

    private static bool SnapshotHasRoute(ClusterWebhook w) =>
        w.Webhook.Store.Current.Snapshot.Objects.Any(o => o.Key.Kind == ResourceKind.GatewayApiRoute && o.Key.Name == "cnn-tls");

    private static string[] TlsRouteVersions(ClusterWebhook w) =>
        [.. w.Source.Resources.Where(r => r.KindName == "TLSRoute").Select(r => r.ApiVersion)];

    /// <summary>A CRD's served version changes (the Gateway API upgrade that serves TLSRoute at v1 next to v1alpha2;
    /// EgressPolicy has one version so far, and goes the same way): the old version stays watched and its objects
    /// stay in the snapshot while the new version's lists fail, also when the new version is withdrawn again before it
    /// listed, and is stopped only when the new version has listed; the objects are never absent.</summary>
    [Fact]
    public async Task Rediscovery_ServedVersionChanges_TheOldVersionStaysInTheSnapshotUntilTheNewOneHasListed()
    {
        var time = Clock();
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", ClusterYaml.Cluster, TlsRoute)), Rediscovery, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced && SnapshotHasRoute(w), "the first sync");
        Assert.Equal(["gateway.networking.k8s.io/v1alpha2"], TlsRouteVersions(w));

        // v1 served too (preferred); its reads fail (a conversion webhook down) for 90 s, past StaleAfterSeconds
        w.Api.RefuseReads("tlsroutes", version: "v1");
        w.Api.ServeVersions("tlsroutes", "v1", "v1alpha2");
        await AdvanceUntilAsync(time, () => w.Api.RefusedReads("tlsroutes") > 0, "a list at v1", TimeSpan.FromMilliseconds(100));
        for (var i = 0; i < 180; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(10);
            Assert.True(SnapshotHasRoute(w), $"the route left the snapshot {i * 0.5:F1} s into the version change");
        }

        Assert.Equal(["gateway.networking.k8s.io/v1alpha2"], TlsRouteVersions(w));
        Assert.True(w.Source.IsSynced);
        Assert.False(w.Source.IsStale, "the old version still lists and watches: the cache is fresh");
        Assert.Null(w.Source.Describe());

        // v1 withdrawn before it listed (the upgrade rolled back): the successor goes, the old version stays
        w.Api.ServeVersions("tlsroutes", "v1alpha2");
        await AdvanceAsync(time, TimeSpan.FromSeconds(25), TimeSpan.FromMilliseconds(500));
        Assert.True(SnapshotHasRoute(w));
        Assert.Equal(["gateway.networking.k8s.io/v1alpha2"], TlsRouteVersions(w));

        // served at v1 again, now readable: once its first list is done it replaces v1alpha2
        w.Api.ServeVersions("tlsroutes", "v1", "v1alpha2");
        w.Api.RefuseReads("tlsroutes", refused: false, version: "v1");
        await AdvanceUntilAsync(time, () => TlsRouteVersions(w).Contains("gateway.networking.k8s.io/v1"), "TLSRoute v1 published", TimeSpan.FromMilliseconds(100));
        Assert.Equal(["gateway.networking.k8s.io/v1"], TlsRouteVersions(w));
        await AdvanceAsync(time, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(100));
        Assert.True(SnapshotHasRoute(w), "the route, now listed at v1, stays in the snapshot");

        // changes now arrive through the v1 watch
        Assert.True(w.Api.Delete("tlsroutes", "default", "cnn-tls"));
        await AdvanceUntilAsync(time, () => !SnapshotHasRoute(w), "the route's deletion", TimeSpan.FromMilliseconds(100));
        Assert.True(w.Source.IsSynced);
        Assert.False(w.Source.IsStale);
    }

    /// <summary>The old version withdrawn while the new one cannot be read: the old informer keeps its objects but cannot
    /// list, so past StaleAfterSeconds the cache is stale (and <c>WhenNotSynced</c> decides), never silently without
    /// the kind; once the new version lists, it replaces the old one and the cache is fresh again.</summary>
    [Fact]
    public async Task Rediscovery_OldVersionWithdrawnWhileTheNewOneFails_KeepsItsObjectsAndTurnsStale()
    {
        var time = Clock();
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", ClusterYaml.Cluster, TlsRoute)), Rediscovery, time);
        await AdvanceUntilAsync(time, () => w.Source.IsSynced && SnapshotHasRoute(w), "the first sync");

        w.Api.RefuseReads("tlsroutes", version: "v1");
        w.Api.ServeVersions("tlsroutes", "v1");
        w.Api.DropWatches("tlsroutes");
        await AdvanceAsync(time, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
        Assert.True(SnapshotHasRoute(w), "the old version's objects stay until the new version has listed");
        Assert.Equal(["gateway.networking.k8s.io/v1alpha2"], TlsRouteVersions(w));
        Assert.True(w.Source.IsStale, "the old version can no longer be read: the cache is stale");
        Assert.Contains("TLSRoute", w.Source.Describe(), StringComparison.Ordinal);

        w.Api.RefuseReads("tlsroutes", refused: false, version: "v1");
        await AdvanceUntilAsync(time, () => TlsRouteVersions(w) is ["gateway.networking.k8s.io/v1"] && !w.Source.IsStale, "TLSRoute v1 published", TimeSpan.FromMilliseconds(100));
        await AdvanceAsync(time, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(100));
        Assert.True(SnapshotHasRoute(w));
        Assert.Null(w.Source.Describe());
    }

    /// <summary>Advances the fake clock in <paramref name="step"/>s (10 ms by default), letting real time pass for the
    /// HTTP traffic in between, until <paramref name="condition"/> holds.</summary>
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

    private static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan total, TimeSpan step)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += step)
        {
            time.Advance(step);
            await Task.Delay(10);
        }
    }
}
