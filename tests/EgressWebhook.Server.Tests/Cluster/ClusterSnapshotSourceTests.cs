using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Cluster;

namespace EgressWebhook.Server.Tests.Cluster;

public sealed class ClusterSnapshotSourceTests
{
    [Fact]
    public async Task InitialSync_PublishesEveryKindOfTheServer_AndSkipsOtherConfigMaps()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.Apply(HttpRoute);
            s.Apply(AmbientObjects);
        });

        await h.WaitForServerStateAsync();

        var snapshot = h.Store.Current.Snapshot;
        Assert.True(h.Source.IsSynced);
        Assert.Null(h.Source.Describe());
        Assert.Equal(ClusterSnapshotSource.SourceName, h.Store.Current.Source);
        foreach (var kind in Enum.GetValues<ResourceKind>())
        {
            Assert.Contains(snapshot.Objects, o => o.ResourceKind == kind);
        }

        // only istio-system/istio is a mesh config; kube-root-ca.crt and default/istio are not read
        var mesh = Assert.Single(snapshot.Objects.OfType<MeshConfig>());
        Assert.Equal("istio", mesh.Name);
        Assert.Equal(OutboundPolicies.RegistryOnly, snapshot.Mesh.EffectiveOutboundPolicy);
        Assert.Equal(1, h.Server.ListCount("serviceentries"));
    }

    /// <summary>An HTTPRoute whose parent is the ServiceEntry of <see cref="ClusterYaml.Cluster"/> (Istio's pattern for
    /// routing to an external host with the Gateway API).</summary>
    private const string HttpRoute = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: cnn, namespace: default}
        spec:
          parentRefs:
          - {kind: ServiceEntry, group: networking.istio.io, name: cnn}
          rules:
          - backendRefs: [{kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 443}]
        """;

    /// <summary>A waypoint (a Gateway API Gateway, same kind name as Istio's Gateway), a ReferenceGrant and an
    /// AuthorizationPolicy attached to the ServiceEntry of <see cref="ClusterYaml.Cluster"/> (issue 17).</summary>
    private const string AmbientObjects = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: waypoint, namespace: default, labels: {istio.io/waypoint-for: service}}
        spec:
          gatewayClassName: istio-waypoint
          listeners: [{name: mesh, port: 15008, protocol: HBONE}]
        ---
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: from-default, namespace: istio-system}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
          to: [{group: "", kind: Service}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: cnn, namespace: default}
        spec:
          targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
          action: ALLOW
        """;

    [Fact]
    public async Task OptionalKinds_AreWatchedWhereServed_AndTheGatewayApiGatewayIsNotIstios()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.Apply(AmbientObjects);
            s.ServeSecurityApi = false;
        });
        await h.WaitForServerStateAsync();

        Assert.Contains(h.Source.Resources, r => r.Kind == ResourceKind.GatewayApiGateway && r.ApiVersion == "gateway.networking.k8s.io/v1");
        Assert.Contains(h.Source.Resources, r => r.Kind == ResourceKind.ReferenceGrant && r.ApiVersion == "gateway.networking.k8s.io/v1beta1");
        Assert.DoesNotContain(h.Source.Resources, r => r.Kind == ResourceKind.AuthorizationPolicy);
        var snapshot = h.Store.Current.Snapshot;
        var waypoint = Assert.Single(snapshot.Objects.OfType<GatewayApiGateway>());
        Assert.Equal("istio-waypoint", waypoint.Spec.GatewayClassName);
        Assert.DoesNotContain(snapshot.Objects.OfType<Gateway>(), g => g.Name == "waypoint");
    }

    [Fact]
    public async Task GatewayApiRoutes_AreWatchedAtTheServedVersions_AndChangesArrive()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();

        Assert.Equal(["GRPCRoute gateway.networking.k8s.io/v1", "HTTPRoute gateway.networking.k8s.io/v1", "TCPRoute gateway.networking.k8s.io/v1alpha2", "TLSRoute gateway.networking.k8s.io/v1alpha2"],
            h.Source.Resources.Where(r => r.Kind == ResourceKind.GatewayApiRoute).Select(r => $"{r.KindName} {r.ApiVersion}").Order());

        h.Server.Apply(HttpRoute);
        await h.WaitForServerStateAsync();
        var route = Assert.Single(h.Store.Current.Snapshot.Objects.OfType<GatewayApiRoute>());
        Assert.Equal("HTTPRoute", route.RouteKind);
        Assert.Single(SnapshotView.Of(h.Store.Current.Snapshot).GatewayApiRoutesWithServiceEntryParent("default", "cnn"));
    }

    [Fact]
    public async Task WithoutTheGatewayApi_TheCacheSyncsWithoutRoutes()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.ServeGatewayApi = false;
        });

        await h.WaitForServerStateAsync();

        Assert.True(h.Source.IsSynced);
        Assert.DoesNotContain(h.Source.Resources, r => r.Kind == ResourceKind.GatewayApiRoute);
    }

    [Fact]
    public async Task Readiness_FailsUntilEveryKindSynced()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.IstioVersions = []; // Istio's CRDs not (yet) served: the Istio kinds cannot sync
        });

        // asked twice: the first "not served" answer was handled and the source looked again
        await ClusterHarness.WaitUntilAsync(() => h.Server.IstioDiscoveries >= 2, "two discoveries of Istio's group");
        Assert.False(h.Store.IsReady);
        Assert.False(h.Source.IsSynced);
        Assert.NotNull(h.Source.Describe());

        h.Server.IstioVersions = ["v1"];
        await h.WaitForServerStateAsync();
        Assert.True(h.Source.IsSynced);
    }

    [Fact]
    public async Task AddModifyDeleteEvents_AreApplied()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();

        h.Server.Apply(ClusterYaml.ServiceEntry("google", "www.google.com"));
        await h.WaitForServerStateAsync();
        Assert.NotNull(h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "google")));

        h.Server.Apply(ClusterYaml.ServiceEntry("google", "www.google.com", port: 8443));
        await h.WaitForServerStateAsync();
        var modified = (ServiceEntry)h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "google"))!;
        Assert.Equal(8443, modified.Spec.Ports[0].Number);

        h.Server.Delete("serviceentries", "default", "cnn");
        h.Server.Delete("services", "istio-system", "istio-egressgateway");
        await h.WaitForServerStateAsync();
        Assert.Null(h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "cnn")));
        Assert.Null(h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.Service, "istio-system", "istio-egressgateway")));

        // the mesh config's data changes the snapshot's mesh
        h.Server.Apply(ClusterYaml.MeshRegistryOnly.Replace("REGISTRY_ONLY", "ALLOW_ANY", StringComparison.Ordinal));
        await h.WaitForServerStateAsync();
        Assert.Equal(OutboundPolicies.AllowAny, h.Store.Current.Snapshot.Mesh.EffectiveOutboundPolicy);
        Assert.Equal(1, h.Server.ListCount("serviceentries"));
        Assert.Equal(1, h.Metrics.Objects.WithLabels("ServiceEntry").Value);
        Assert.Equal(0, h.Metrics.Objects.WithLabels("Service").Value);
        Assert.True(h.Metrics.EventLag.Count >= 4, "the lag of each published change is observed");
    }

    [Fact]
    public async Task GoneWatch_ForcesRelist_WhichCatchesUpWithMissedChanges()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();

        // changes the watch does not deliver, then the server compacts and expires the watch (410)
        h.Server.StallWatches("serviceentries");
        h.Server.Apply(ClusterYaml.ServiceEntry("google", "www.google.com"));
        h.Server.Delete("serviceentries", "default", "cnn");
        h.Server.ExpireWatches("serviceentries");

        await h.WaitForServerStateAsync();
        Assert.Equal(2, h.Server.ListCount("serviceentries"));
        Assert.Equal(2, h.Informer("ServiceEntry").Lists);
        Assert.Equal(1, h.Server.ListCount("gateways"));
    }

    [Fact]
    public async Task DroppedWatch_ResumesFromLastResourceVersion_WithoutRelist()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.BookmarkInterval = TimeSpan.FromMilliseconds(100);
        });
        await h.WaitForServerStateAsync();
        var informer = h.Informer("VirtualService");
        await ClusterHarness.WaitUntilAsync(() => informer.ResourceVersion == h.Server.ResourceVersion, "a bookmark at the server's resourceVersion");
        var lastSeen = informer.ResourceVersion!;

        h.Server.DropWatches("virtualservices");
        h.Server.Apply(ClusterYaml.VirtualService("google", "www.google.com"));
        h.Server.Delete("virtualservices", "default", "cnn");

        await h.WaitForServerStateAsync();
        Assert.Equal(1, h.Server.ListCount("virtualservices"));
        var starts = h.Server.WatchStarts("virtualservices");
        Assert.True(starts.Count >= 2, $"watch starts: {string.Join(",", starts)}");
        Assert.Equal(lastSeen, starts[1]);
        Assert.True(informer.Restarts >= 1);
    }

    [Fact]
    public async Task WatchGoneSilentWithoutClosing_IsRestartedAtItsDeadline_FromLastResourceVersion()
    {
        // the server is asked to end each watch after 1-2 s; a watch still open 1 s later is a dead connection
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster), o => o.WatchTimeoutSeconds = 1);
        await h.WaitForServerStateAsync();
        var informer = h.Informer("DestinationRule");

        h.Server.StallWatches("destinationrules");
        h.Server.Apply(ClusterYaml.DestinationRule.Replace("- name: cnn", "- name: cnn\n  - name: google", StringComparison.Ordinal));
        await ClusterHarness.WaitUntilAsync(() => h.Server.WithheldEvents("destinationrules") >= 1, "the stalled watch to withhold the change");
        Assert.False(h.SnapshotState().SetEquals(h.Server.Expected()), "the stalled watch must not have delivered the change");

        await h.WaitForServerStateAsync();
        var dr = (DestinationRule)h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.DestinationRule, "default", "egressgateway-for-cnn"))!;
        Assert.Equal(["cnn", "google"], dr.Spec.Subsets.Select(s => s.Name));
        Assert.True(informer.Restarts >= 1);
        Assert.True(h.Metrics.WatchRestarts.WithLabels("DestinationRule", "deadline").Value >= 1);
        Assert.Equal(1, h.Server.ListCount("destinationrules"));
    }

    [Fact]
    public async Task WatchClosedByServerTimeout_IsResumed_WithoutRelist()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster), o => o.WatchTimeoutSeconds = 1);
        await h.WaitForServerStateAsync();

        await ClusterHarness.WaitUntilAsync(() => h.Server.WatchStarts("gateways").Count >= 3, "two server-side watch timeouts");
        h.Server.Apply(ClusterYaml.Gateway.Replace("name: istio-egressgateway", "name: second", StringComparison.Ordinal));

        await h.WaitForServerStateAsync();
        Assert.Equal(1, h.Server.ListCount("gateways"));
        Assert.True(h.Metrics.WatchRestarts.WithLabels("Gateway", "closed").Value >= 2);
        Assert.Equal(0, h.Metrics.WatchRestarts.WithLabels("Gateway", "dropped").Value);
    }

    [Fact]
    public async Task PeriodicResync_RelistsEveryKind()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster), o => o.ResyncMinutes = 0.5 / 60);
        await h.WaitForServerStateAsync();

        await ClusterHarness.WaitUntilAsync(() => h.Server.ListCount("sidecars") >= 3 && h.Server.ListCount("namespaces") >= 3, "two re-lists");
        await h.WaitForServerStateAsync();
    }

    [Fact]
    public async Task Discovery_UsesV1beta1_WhenV1IsNotServed()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.IstioVersions = ["v1beta1", "v1alpha3"];
            s.Apply(ClusterYaml.Cluster);
        });

        await h.WaitForServerStateAsync();
        Assert.Equal(5, h.Source.Resources.Count(r => r.ApiVersion.StartsWith("networking.istio.io/", StringComparison.Ordinal)));
        Assert.All(h.Source.Resources.Where(r => r.ApiVersion.StartsWith("networking.istio.io/", StringComparison.Ordinal)),
            r => Assert.Equal("networking.istio.io/v1beta1", r.ApiVersion));
    }

    [Fact]
    public async Task ObjectWithWrongFieldType_IsSkipped_AndTheRestSyncs()
    {
        await using var h = await ClusterHarness.StartAsync(s =>
        {
            s.Apply(ClusterYaml.Cluster);
            s.Apply(ClusterYaml.ServiceEntry("broken", "broken.example.com").Replace("number: 443", "number: [443]", StringComparison.Ordinal));
        });

        await ClusterHarness.WaitUntilAsync(() => h.Store.IsReady, "ready");
        await ClusterHarness.WaitUntilAsync(
            () => h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "cnn")) is not null,
            "the valid ServiceEntry");
        Assert.Null(h.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "broken")));
        await h.WaitForServerStateAsync();
        Assert.Equal(1, h.Metrics.DecodeErrors.WithLabels("ServiceEntry").Value);
    }

    [Fact]
    public async Task ApiServerGone_MakesTheCacheStale()
    {
        await using var h = await ClusterHarness.StartAsync(s => s.Apply(ClusterYaml.Cluster));
        await h.WaitForServerStateAsync();
        Assert.False(h.Source.IsStale);

        await h.StopServerAsync();

        await ClusterHarness.WaitUntilAsync(() => h.Source.IsStale, "staleness");
        Assert.Contains("stale", h.Source.Describe(), StringComparison.Ordinal);
        Assert.True(h.Store.IsReady, "the last snapshot stays published");
    }
}
