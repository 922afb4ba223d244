using System.Diagnostics;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>Admissions against the live cache: a VirtualService for a host whose ServiceEntry comes a moment later.</summary>
public sealed class ClusterAdmissionTests
{
    private const string Host = "api.example.com";

    private static readonly VirtualService Vs = (VirtualService)ManifestReader.Read(ClusterYaml.VirtualService("api", Host)).Single();

    private static EgressReport Check(EgressSnapshot snapshot) =>
        EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, Vs, null), RuleSettings.Default);

    [Fact]
    public async Task MissingServiceEntry_IsDenied_ThenAllowedWithinOneSecondOfItsCreation()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();

        var denied = Check(h.Store.Current.Snapshot);
        Assert.False(denied.Allowed);
        Assert.Contains(denied.Findings, f => f.Rule == RuleIds.DestinationHostNotRegistered && f.Severity == Severity.Error);

        h.Server.Apply(ClusterYaml.ServiceEntry("api", Host));
        var clock = Stopwatch.StartNew();
        while (!Check(h.Store.Current.Snapshot).Allowed)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), "still denied one second after the ServiceEntry was created");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task ServiceEntryOnServerButNotInCache_IsFoundByTheDirectRead()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();

        // the ServiceEntry watch goes silent: the cache lags the server
        h.Server.StallNewWatches = true;
        h.Server.StallWatches("serviceentries");
        h.Server.Apply(ClusterYaml.ServiceEntry("api", Host));
        // the stalled watch held the ADDED event back: the cache cannot have it from the watch
        await ClusterHarness.WaitUntilAsync(() => h.Server.WithheldEvents("serviceentries") >= 1, "the stalled watch to withhold the ServiceEntry");
        var cached = h.Store.Current.Snapshot;
        Assert.Null(cached.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "api")));

        var denied = Check(cached);
        Assert.False(denied.Allowed);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var fresh = await h.FreshReads.RefreshAsync(cached, AdmissionPipeline.Default.KindsToConfirm(Vs, denied.Findings, cached), deadline.Token);

        Assert.NotNull(fresh);
        Assert.True(Check(fresh).Allowed);
        Assert.Null(h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "api")));
    }

    [Fact]
    public async Task CountProbe_SeesACreatedObject_AndSkipsTheFullReadWhenTheCountIsUnchanged()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.Apply(ClusterYaml.ServiceEntry("a", "a.example.com") + "\n---\n" + ClusterYaml.ServiceEntry("b", "b.example.com"));
        }, o => o.ListPageSize = 2);
        await h.WaitForServerStateAsync();
        var entries = h.Informer("ServiceEntry").Resource;
        Assert.Equal(3, await h.Api.CountAsync(entries, CancellationToken.None)); // one item plus remainingItemCount
        var plan = new Dictionary<ResourceKind, FreshReadMode> { [ResourceKind.ServiceEntry] = FreshReadMode.IfCountChanged };

        // the cache is right: one count, no full read
        var lists = h.Server.ListCount("serviceentries");
        Assert.Null(await h.FreshReads.RefreshAsync(h.Store.Current.Snapshot, plan, CancellationToken.None));
        Assert.Equal(lists + 1, h.Server.ListCount("serviceentries"));

        // created while the watch is silent: the count differs, the full read finds it
        h.Server.StallNewWatches = true;
        h.Server.StallWatches("serviceentries");
        h.Server.Apply(ClusterYaml.ServiceEntry("api", Host));
        var fresh = await h.FreshReads.RefreshAsync(h.Store.Current.Snapshot, plan, CancellationToken.None);
        Assert.NotNull(fresh);
        Assert.True(Check(fresh).Allowed);
        Assert.Equal(lists + 3, h.Server.ListCount("serviceentries"));
    }

    [Fact]
    public async Task DirectRead_FindsNothing_WhenTheServiceEntryReallyIsMissing()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();
        var denied = Check(h.Store.Current.Snapshot);
        var lists = h.Server.ListCount("serviceentries");

        var fresh = await h.FreshReads.RefreshAsync(h.Store.Current.Snapshot, AdmissionPipeline.Default.KindsToConfirm(Vs, denied.Findings, h.Store.Current.Snapshot), CancellationToken.None);

        Assert.Null(fresh);
        Assert.Equal(lists + 1, h.Server.ListCount("serviceentries"));
        // api.example.com is outside the cluster: no Kubernetes Service can register it, so Services are not read
        Assert.Equal(1, h.Server.ListCount("services"));
        Assert.Equal(1, h.Server.ListCount("gateways"));
    }

    [Fact]
    public void KindsToConfirm_ReadsServices_OnlyForAClusterLocalHost()
    {
        var finding = new Finding(RuleIds.DestinationHostNotRegistered, Severity.Error, Vs.Ref, "spec.tls[0].route[0].destination.host", "host", []);
        var local = (VirtualService)ManifestReader.Read(ClusterYaml.VirtualService("local", "reviews.bookinfo.svc.cluster.local")).Single();

        Assert.Equal([ResourceKind.ServiceEntry], AdmissionPipeline.Default.KindsToConfirm(Vs, [finding], EgressSnapshot.Empty).Keys);
        Assert.Equal([ResourceKind.ServiceEntry, ResourceKind.Service], AdmissionPipeline.Default.KindsToConfirm(local, [finding], EgressSnapshot.Empty).Keys.Order());
        Assert.All(AdmissionPipeline.Default.KindsToConfirm(local, [finding], EgressSnapshot.Empty).Values, m => Assert.Equal(FreshReadMode.Always, m));
        Assert.All(AdmissionPipeline.Default.KindsToConfirm(local, [finding with { Severity = Severity.Warning }], EgressSnapshot.Empty).Values,
            m => Assert.Equal(FreshReadMode.IfCountChanged, m));
    }

    [Fact]
    public async Task DirectRead_IsSkipped_ForFindingsNotAboutAMissingObject()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();
        var finding = new Finding(RuleIds.PassthroughPortChain, Severity.Error, Vs.Ref, "spec.tls[0].match[0].port", "port", []);

        var fresh = await h.FreshReads.RefreshAsync(h.Store.Current.Snapshot, AdmissionPipeline.Default.KindsToConfirm(null, [finding], h.Store.Current.Snapshot), CancellationToken.None);

        Assert.Null(fresh);
        Assert.Equal(1, h.Server.ListCount("serviceentries"));
    }

    [Fact]
    public async Task DirectRead_GivesUpAtTheDeadline()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();
        h.Server.ListDelay = TimeSpan.FromSeconds(10);
        var denied = Check(h.Store.Current.Snapshot);

        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        var fresh = await h.FreshReads.RefreshAsync(h.Store.Current.Snapshot, AdmissionPipeline.Default.KindsToConfirm(Vs, denied.Findings, h.Store.Current.Snapshot), deadline.Token);

        Assert.Null(fresh);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }
    [Fact]
    public void ReadsToConfirm_AMissingGatewayNamedByTheRoute_IsGotByName_NotListed()
    {
        var route = (VirtualService)ManifestReader.Read(ClusterYaml.VirtualService("api", Host).Replace("spec:\n", "spec:\n  gateways: [istio-system/absent]\n", StringComparison.Ordinal)).Single();
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterYaml.Cluster).Append(ManifestReader.Read(ClusterYaml.ServiceEntry("api", Host)).Single()));
        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, route, null), RuleSettings.Default);
        var missing = Assert.Single(report.Findings, f => f.Rule == RuleIds.GatewayReference && f.Awaits is not null);

        var plan = AdmissionPipeline.Default.ReadsToConfirm(route, [missing], snapshot);

        Assert.Equal([new ObjectKey(ResourceKind.Gateway, "istio-system", "absent")], plan.Objects);
        Assert.Empty(plan.Kinds);
        Assert.Equal("default", plan.Namespace);
    }

    [Fact]
    public void ReadsToConfirm_APortFindingGetsTheServiceEntryItUsed_AHostFindingListsTheKind()
    {
        var entry = ManifestReader.Read(ClusterYaml.ServiceEntry("api", Host, port: 8443)).Single();
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterYaml.Cluster).Append(entry));
        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, Vs, null), RuleSettings.Default);
        var port = Assert.Single(report.Findings, f => f.Rule == RuleIds.DestinationPortUnknown);

        var plan = AdmissionPipeline.Default.ReadsToConfirm(Vs, [port], snapshot);

        Assert.Equal([entry.Key], plan.Objects);
        Assert.Empty(plan.Kinds);
        // "no ServiceEntry registers the host" names no object: only the kind can show one written a moment ago
        var host = new Finding(RuleIds.DestinationHostNotRegistered, Severity.Error, Vs.Ref, "spec.tls[0].route[0].destination.host", "host", [])
        {
            Awaits = Awaited.RegistryObjectFor(Host),
        };
        var hostPlan = AdmissionPipeline.Default.ReadsToConfirm(Vs, [host], snapshot);
        Assert.Empty(hostPlan.Objects);
        Assert.Equal(FreshReadMode.Always, hostPlan.Kinds[ResourceKind.ServiceEntry]);
    }

    [Fact]
    public async Task ConfirmByName_FindsAnObjectTheCacheLacks_AndA404DeletesOneItHolds_WithoutAList()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();
        h.Server.StallNewWatches = true;
        h.Server.StallWatches("serviceentries");
        h.Server.Apply(ClusterYaml.ServiceEntry("api", Host));
        Assert.True(h.Server.Delete("serviceentries", "default", "cnn"));
        var cached = h.Store.Current.Snapshot;
        var api = new ObjectKey(ResourceKind.ServiceEntry, "default", "api");
        var cnn = new ObjectKey(ResourceKind.ServiceEntry, "default", "cnn");
        Assert.Null(cached.Find(api));
        Assert.NotNull(cached.Find(cnn));
        var lists = h.Server.ListCount("serviceentries");
        var gets = h.Server.GetCount("serviceentries");

        var fresh = await h.FreshReads.ConfirmAsync(cached, new FreshReadPlan(new Dictionary<ResourceKind, FreshReadMode>(), [api, cnn]), CancellationToken.None);

        Assert.NotNull(fresh);
        Assert.NotNull(fresh.Find(api));
        Assert.Null(fresh.Find(cnn));
        Assert.True(Check(fresh).Allowed);
        Assert.Equal(lists, h.Server.ListCount("serviceentries"));
        Assert.Equal(gets + 2, h.Server.GetCount("serviceentries"));
        // what the cache holds already is confirmed by the same gets, with nothing to change
        Assert.Null(await h.FreshReads.ConfirmAsync(fresh, new FreshReadPlan(new Dictionary<ResourceKind, FreshReadMode>(), [api, cnn]), CancellationToken.None));
    }

    [Fact]
    public async Task ConfirmInNamespace_ReadsOnlyThatNamespace_AndKeepsTheOthersAsCached()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();
        h.Server.StallNewWatches = true;
        h.Server.StallWatches("serviceentries");
        h.Server.Apply(ClusterYaml.ServiceEntry("api", Host));
        h.Server.Apply(ClusterYaml.ServiceEntry("elsewhere", "other.example.com").Replace("namespace: default", "namespace: istio-system", StringComparison.Ordinal));
        var cached = h.Store.Current.Snapshot;
        var plan = new FreshReadPlan(new Dictionary<ResourceKind, FreshReadMode> { [ResourceKind.ServiceEntry] = FreshReadMode.Always }, [], "default");

        var fresh = await h.FreshReads.ConfirmAsync(cached, plan, CancellationToken.None);

        Assert.NotNull(fresh);
        Assert.NotNull(fresh.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "api")));
        Assert.NotNull(fresh.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "cnn")));
        Assert.Null(fresh.Find(new ObjectKey(ResourceKind.ServiceEntry, "istio-system", "elsewhere")));
        var all = await h.FreshReads.ConfirmAsync(cached, plan with { Namespace = null }, CancellationToken.None);
        Assert.NotNull(all!.Find(new ObjectKey(ResourceKind.ServiceEntry, "istio-system", "elsewhere")));
    }
}
