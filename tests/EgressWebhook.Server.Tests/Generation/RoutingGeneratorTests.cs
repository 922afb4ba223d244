using EgressWebhook.Core.Model;
using System.Net;
using System.Text.Json.Nodes;
using EgressWebhook.Server.Tests.Cluster;
using EgressWebhook.Server.Tests.Fakes;
using EgressWebhook.Server.Tests.Infrastructure;
using EgressWebhook.Server.Logging;

namespace EgressWebhook.Server.Tests.Generation;

/// <summary>The generator against the fake API server: the cluster source watches it, the generator applies and
/// deletes through it, and the Lease lives on it.</summary>
public sealed class RoutingGeneratorTests
{
    private const string ManagedBy = "app.kubernetes.io/managed-by";
    private static readonly string[] GeneratedPlurals = ["gateways", "virtualservices", "destinationrules"];

    /// <summary>The seed's egress gateway Service (80/http2 and 443/https, selector istio: egressgateway) and namespaces.</summary>
    private static string Base => string.Join("\n---\n",
        File.ReadAllText(Path.Combine(TestPaths.Seed, "05-egressgateway-service.yaml")), ClusterYaml.Namespaces);

    private static string Entry(string name = "cnn", string ports = "- number: 443\n    name: tls\n    protocol: TLS", string? gateway = "istio-system/istio-egressgateway") => $"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: {name}
          namespace: default
        {(gateway is null ? "" : $"  annotations:\n    egress.istio.io/gateway: {gateway}")}
        spec:
          hosts:
          - edition.cnn.com
          location: MESH_EXTERNAL
          resolution: DNS
          ports:
          {ports}
        """;

    private const string HttpPort = "- number: 80\n    name: http\n    protocol: HTTP";

    [Fact]
    public async Task EntryCreated_ItsRoutingAppears_OwnedByTheEntry_AppliedByTheProject()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await replica.WaitConvergedAsync();
        Assert.Empty(server.AllWrites());

        server.Apply(Entry());
        await WaitForAsync(() => Generated(server).Count == 4, "the routing of cnn");
        await replica.WaitConvergedAsync();

        var uid = server.Get("serviceentries", "default", "cnn")!["metadata"]!["uid"]!.GetValue<string>();
        Assert.Equal(
            ["destinationrules/default/cnn-egress", "gateways/default/cnn-egress", "virtualservices/default/cnn-egress-mesh", "virtualservices/default/cnn-egress-tls"],
            Generated(server).Keys.Order(StringComparer.Ordinal));
        foreach (var obj in Generated(server).Values)
        {
            Assert.Equal("egress-webhook", obj["metadata"]!["labels"]![ManagedBy]!.GetValue<string>());
            var owner = Assert.Single(obj["metadata"]!["ownerReferences"]!.AsArray())!;
            Assert.Equal("ServiceEntry", owner["kind"]!.GetValue<string>());
            Assert.Equal("cnn", owner["name"]!.GetValue<string>());
            Assert.Equal(uid, owner["uid"]!.GetValue<string>());
            Assert.Equal("networking.istio.io/v1", owner["apiVersion"]!.GetValue<string>());
            Assert.True(owner["controller"]!.GetValue<bool>());
            Assert.Equal("egress-webhook", obj["metadata"]!["managedFields"]![0]!["manager"]!.GetValue<string>());
        }

        var server443 = Assert.Single(Generated(server)["gateways/default/cnn-egress"]["spec"]!["servers"]!.AsArray())!;
        Assert.Equal(443, server443["port"]!["number"]!.GetValue<int>());
        Assert.Equal("TLS", server443["port"]!["protocol"]!.GetValue<string>());
        Assert.Equal("PASSTHROUGH", server443["tls"]!["mode"]!.GetValue<string>());
        Assert.Equal("egressgateway", Generated(server)["gateways/default/cnn-egress"]["spec"]!["selector"]!["istio"]!.GetValue<string>());

        // every write was a forced server-side apply by the project's field manager; each object was written once
        var writes = GeneratedPlurals.SelectMany(server.Writes).ToList();
        Assert.All(writes, w =>
        {
            Assert.Equal("apply", w.Verb);
            Assert.Equal("egress-webhook", w.FieldManager);
            Assert.StartsWith("application/apply-patch+yaml", w.ContentType, StringComparison.Ordinal);
            Assert.True(w.Force);
        });
        Assert.Equal(4, writes.Count);
        Assert.Equal(4, replica.Metrics.SuccessfulWrites);
        Assert.Equal(1, replica.Metrics.Leader.Value);
        Assert.Equal("replica-a", server.LeaseHolder(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName));

        // a pass over a new snapshot with the routing in place writes nothing
        server.Apply(ClusterYaml.Sidecar);
        await replica.WaitConvergedAsync();
        Assert.Equal(4, GeneratedPlurals.SelectMany(server.Writes).Count());
    }

    [Fact]
    public async Task EntryPortsChanged_RoutingUpdated_AndTheLegNoLongerPlannedIsDeleted()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await WaitForAsync(() => Generated(server).Count == 4, "the routing of cnn");
        await replica.WaitConvergedAsync();
        var gatewayVersion = Generated(server)["gateways/default/cnn-egress"]["metadata"]!["resourceVersion"]!.GetValue<string>();

        // 443/TLS → 80/HTTP: the gateway serves HTTP on 80, the http leg replaces the tls leg
        server.Apply(Entry(ports: HttpPort));
        await WaitForAsync(() => Generated(server).ContainsKey("virtualservices/default/cnn-egress-http") &&
                                 !Generated(server).ContainsKey("virtualservices/default/cnn-egress-tls"), "the HTTP routing");
        await replica.WaitConvergedAsync();

        var generated = Generated(server);
        Assert.Equal(
            ["destinationrules/default/cnn-egress", "gateways/default/cnn-egress", "virtualservices/default/cnn-egress-http", "virtualservices/default/cnn-egress-mesh"],
            generated.Keys.Order(StringComparer.Ordinal));
        var gateway = generated["gateways/default/cnn-egress"];
        Assert.NotEqual(gatewayVersion, gateway["metadata"]!["resourceVersion"]!.GetValue<string>());
        var http = Assert.Single(gateway["spec"]!["servers"]!.AsArray())!;
        Assert.Equal(80, http["port"]!["number"]!.GetValue<int>());
        Assert.Equal("HTTP", http["port"]!["protocol"]!.GetValue<string>());
        var mesh = generated["virtualservices/default/cnn-egress-mesh"]["spec"]!;
        Assert.Null(mesh["tls"]);
        Assert.Equal(80, mesh["http"]![0]!["match"]![0]!["port"]!.GetValue<int>());
        var delete = Assert.Single(server.Writes("virtualservices"), w => w.Verb == "delete");
        Assert.Equal("cnn-egress-tls", delete.Name);
    }

    [Fact]
    public async Task EntryDeleted_ItsRoutingIsRemoved_AndNothingElse()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        // not the generator's: a hand-written route, and a rendered (GitOps) object with the label but no owner
        server.Apply(ClusterYaml.VirtualService("by-hand", "www.example.com"));
        server.Apply("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: rendered-egress
              namespace: default
              labels:
                app.kubernetes.io/managed-by: egress-webhook
            spec:
              host: www.example.com
            """);
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await WaitForAsync(() => server.Get("gateways", "default", "cnn-egress") is not null, "the routing of cnn");
        await replica.WaitConvergedAsync();

        server.Delete("serviceentries", "default", "cnn");
        await WaitForAsync(() => GeneratedPlurals.All(p => server.All(p).All(o => !Name(o).StartsWith("cnn-egress", StringComparison.Ordinal))), "the routing to go");
        await replica.WaitConvergedAsync();

        Assert.NotNull(server.Get("virtualservices", "default", "by-hand"));
        Assert.NotNull(server.Get("destinationrules", "default", "rendered-egress"));
        var deletes = GeneratedPlurals.SelectMany(server.Writes).Where(w => w.Verb == "delete").Select(w => $"{w.Plural}/{w.Name}").Order(StringComparer.Ordinal);
        Assert.Equal(["destinationrules/cnn-egress", "gateways/cnn-egress", "virtualservices/cnn-egress-mesh", "virtualservices/cnn-egress-tls"], deletes);
    }

    [Fact]
    public async Task ReplicaWithoutTheLease_WritesNothing_ThenTakesOverWhenTheLeaseExpires()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        server.PutLease(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName, "other-replica", DateTime.UtcNow, 3);

        // the other replica keeps renewing while the test watches this one
        using var renewing = new CancellationTokenSource();
        var renewer = Task.Run(async () =>
        {
            while (!renewing.IsCancellationRequested)
            {
                server.PutLease(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName, "other-replica", DateTime.UtcNow, 3);
                await Task.Delay(300, CancellationToken.None);
            }
        });
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-b");
        await replica.Cluster.WaitForServerStateAsync();

        // bounded "nothing happens": well beyond the 3 s lease duration, while the lease is held elsewhere
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < until)
        {
            Assert.False(replica.Generator.IsLeader);
            await Task.Delay(100);
        }

        Assert.Empty(GeneratedPlurals.SelectMany(server.Writes));
        Assert.Equal(0, replica.Metrics.Leader.Value);
        Assert.Equal(0, replica.Metrics.SuccessfulWrites + replica.Metrics.FailedWrites);
        Assert.Equal("other-replica", server.LeaseHolder(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName));

        // the other replica stops renewing: after the lease duration this one takes over and writes
        await renewing.CancelAsync();
        await renewer;
        await WaitForAsync(() => Generated(server).Count == 4, "the routing after the takeover");
        Assert.Equal("replica-b", server.LeaseHolder(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName));
        Assert.Equal(1, replica.Metrics.Leader.Value);
    }

    [Fact]
    public async Task LeaseTakenByAnother_LeaderStopsWritingAtOnce()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await WaitForAsync(() => Generated(server).Count == 4, "the routing of cnn");
        await replica.WaitConvergedAsync();
        var writes = GeneratedPlurals.SelectMany(server.Writes).Count();

        // another replica holds the Lease from now on (as after a partition)
        using var renewing = new CancellationTokenSource();
        var renewer = Task.Run(async () =>
        {
            while (!renewing.IsCancellationRequested)
            {
                server.PutLease(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName, "other-replica", DateTime.UtcNow, 3);
                await Task.Delay(300, CancellationToken.None);
            }
        });
        try
        {
            // the next renewal sees the other holder: no longer leader, well before the renew deadline
            await WaitForAsync(() => !replica.Generator.IsLeader, "the replica to see the other holder");
            server.Apply(Entry(ports: HttpPort));
            await replica.Cluster.WaitForServerStateAsync();

            var until = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (DateTime.UtcNow < until)
            {
                Assert.False(replica.Generator.IsLeader);
                await Task.Delay(100);
            }

            Assert.Equal(writes, GeneratedPlurals.SelectMany(server.Writes).Count());
            Assert.Equal(0, replica.Metrics.Leader.Value);
        }
        finally
        {
            await renewing.CancelAsync();
            await renewer;
        }
    }

    [Fact]
    public async Task TwoReplicas_OnlyTheLeaderWrites_AndTheOtherTakesOverWhenItStopsAndReleasesTheLease()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        var a = await GeneratorHarness.StartAsync(server, "replica-a");
        var b = await GeneratorHarness.StartAsync(server, "replica-b");
        try
        {
            await WaitForAsync(() => a.Generator.IsLeader || b.Generator.IsLeader, "a leader");
            server.Apply(Entry());
            await WaitForAsync(() => Generated(server).Count == 4, "the routing of cnn");
            var (leader, follower) = a.Generator.IsLeader ? (a, b) : (b, a);
            await leader.WaitConvergedAsync();

            Assert.False(follower.Generator.IsLeader);
            Assert.Equal(0, follower.Metrics.Leader.Value);
            Assert.Equal(0, follower.Metrics.SuccessfulWrites + follower.Metrics.FailedWrites);
            Assert.Equal(4, leader.Metrics.SuccessfulWrites);
            Assert.Equal(4, GeneratedPlurals.SelectMany(server.Writes).Count());
            Assert.Equal(leader.Generator.Identity, server.LeaseHolder(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName));

            // the leader stops: it hands the Lease back on the way out, and the other replica takes over
            await leader.DisposeAsync();
            Assert.Equal("", server.LeaseHolder(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName));
            Assert.Contains(leader.Logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.Leadership.Released && r.Message.StartsWith("Generator: ", StringComparison.Ordinal));
            server.Apply(Entry(ports: HttpPort));
            await WaitForAsync(() => Generated(server).ContainsKey("virtualservices/default/cnn-egress-http"), "the follower to take over and update");
            Assert.True(follower.Generator.IsLeader);
            Assert.True(follower.Metrics.SuccessfulWrites > 0);
            Assert.Equal(follower.Generator.Identity, server.LeaseHolder(GeneratorHarness.LeaseNamespace, GeneratorHarness.LeaseName));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    public async Task FailedWrite_IsLoggedCounted_AndRetried(HttpStatusCode code)
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await replica.WaitConvergedAsync();

        server.FailNextWrites(1, code);
        server.Apply(Entry());
        await WaitForAsync(() => Generated(server).Count == 4, "the routing of cnn despite the failure");
        await replica.WaitConvergedAsync();

        Assert.Equal(1, replica.Metrics.FailedWrites);
        Assert.Equal(4, replica.Metrics.SuccessfulWrites);
        Assert.Equal(1, replica.Metrics.Passes.WithLabels("error").Value);
        // the refused object was sent again
        var writes = GeneratedPlurals.SelectMany(server.Writes).ToList();
        Assert.Equal(5, writes.Count);
        Assert.Contains(replica.Logger.Collector.GetSnapshot(), r => r.Id.Id == 1406 && r.Message.Contains($"{(int)code}", StringComparison.Ordinal));
        Assert.False(replica.Generator.ExecuteTask!.IsCompleted);
        Assert.True(replica.Generator.IsLeader);
    }

    [Fact]
    public async Task StaleCache_NoPass_UntilItRecovers()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await replica.WaitConvergedAsync();
        var writes = GeneratedPlurals.SelectMany(server.Writes).Count();

        // the ServiceEntry watch breaks and cannot come back: the cache goes stale
        server.RefuseReads("serviceentries");
        server.DropWatches("serviceentries");
        await WaitForAsync(() => replica.Cluster.Source.IsStale, "the cache to go stale");

        // generated routing changed by hand: a healthy generator puts it back at once; a stale one must not plan at all
        var gateway = Generated(server).Single(p => p.Key.StartsWith("gateways/", StringComparison.Ordinal)).Value;
        var (ns, name) = (gateway["metadata"]!["namespace"]!.GetValue<string>(), Name(gateway));
        gateway["spec"]!["selector"] = new JsonObject { ["istio"] = "ingressgateway" };
        server.Apply(gateway.ToJsonString());
        await WaitForAsync(() => replica.Cluster.Store.Current.Snapshot.Find(new ObjectKey(ResourceKind.Gateway, ns, name)) is Gateway g &&
                                 g.Spec.Selector.GetValueOrDefault("istio") == "ingressgateway", "the hand edit in the cache");
        // the stale cache is looked at again every retry period: three passes deferred since the hand edit reached the
        // cache are three chances to plan, and none may write
        var deferred = replica.Metrics.Passes.WithLabels("deferred").Value;
        var passes = replica.Metrics.Passes.WithLabels("ok").Value + replica.Metrics.Passes.WithLabels("error").Value;
        await WaitForAsync(() => replica.Metrics.Passes.WithLabels("deferred").Value >= deferred + 3, "three more deferred passes");
        Assert.Equal(writes, GeneratedPlurals.SelectMany(server.Writes).Count());
        Assert.Equal(passes, replica.Metrics.Passes.WithLabels("ok").Value + replica.Metrics.Passes.WithLabels("error").Value);

        server.RefuseReads("serviceentries", refused: false);
        await WaitForAsync(() => server.Get("gateways", ns, name)!["spec"]!["selector"]!["istio"]!.GetValue<string>() == "egressgateway",
            "the hand edit put back once the cache has recovered");
    }

    [Fact]
    public async Task LeaseRequestsFailing_GeneratorKeepsRunning_AndLeadsOnceTheyWork()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        server.AbortLeaseRequests = true;
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");

        // a transport error escapes LeaderElector; the generator logs it, stays a follower and retries
        await WaitForAsync(() => replica.Logger.Collector.GetSnapshot().Any(r => r.Id.Id == EventIds.Leadership.ElectionFailed), "the election failure to be logged");
        Assert.False(replica.Generator.IsLeader);
        Assert.False(replica.Generator.ExecuteTask!.IsCompleted);
        Assert.Empty(GeneratedPlurals.SelectMany(server.Writes));

        server.AbortLeaseRequests = false;
        await WaitForAsync(() => Generated(server).Count == 4, "the routing once the Lease can be taken");
        Assert.True(replica.Generator.IsLeader);
    }

    [Fact]
    public async Task LeaseForbidden_WarnedOnce_NothingWritten_LeadsOnceAllowed()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        server.ForbidLeases = true;
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");

        await WaitForAsync(() => replica.Logger.Collector.GetSnapshot().Any(r => r.Id.Id == EventIds.Leadership.LeaseRequestFailed), "the 403 to be logged");
        // several more tries (retry period 0.2 s), still one warning
        var tries = server.LeaseRequests;
        await WaitForAsync(() => server.LeaseRequests >= tries + 4, "four more lease requests");
        var warning = Assert.Single(replica.Logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.Leadership.LeaseRequestFailed);
        Assert.Contains("403", warning.Message, StringComparison.Ordinal);
        Assert.Contains("forbidden", warning.Message, StringComparison.Ordinal);
        Assert.False(replica.Generator.IsLeader);
        Assert.Empty(GeneratedPlurals.SelectMany(server.Writes));

        server.ForbidLeases = false;
        await WaitForAsync(() => Generated(server).Count == 4, "the routing once the Lease is allowed");
    }

    [Fact]
    public async Task NamespaceTurnedAmbient_GeneratedRoutingDeleted_AndTheEntryIsNeverWritten_ItsLabelIsTheWebhooksJob()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(Base);
        server.Apply(Entry());
        await using var replica = await GeneratorHarness.StartAsync(server, "replica-a");
        await WaitForAsync(() => Generated(server).Count == 4, "the routing of cnn");
        await replica.WaitConvergedAsync();

        // default turns ambient with an egress waypoint, and the entry names it: ztunnel would never use the sidecar-mode
        // legs, so they go; the binding is the entry's own label, which only /mutate writes (no ServiceEntry write RBAC)
        server.Apply("""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: default
              labels:
                istio.io/dataplane-mode: ambient
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: egress-waypoint
              namespace: default
            spec:
              gatewayClassName: istio-waypoint
              listeners:
              - name: mesh
                port: 15008
                protocol: HBONE
            """);
        server.Apply(Entry(gateway: "default/egress-waypoint"));
        await WaitForAsync(() => Generated(server).Count == 0, "the sidecar-mode routing to be deleted");
        await replica.WaitConvergedAsync();

        Assert.Equal(4, GeneratedPlurals.SelectMany(server.Writes).Count(w => w.Verb == "delete"));
        Assert.Empty(server.Writes("serviceentries"));
        Assert.Null(server.Get("serviceentries", "default", "cnn")!["metadata"]!["labels"]);
    }

    private static string Name(JsonObject obj) => obj["metadata"]!["name"]!.GetValue<string>();

    /// <summary>Generated objects on the server (managed-by label), keyed plural/namespace/name.</summary>
    private static Dictionary<string, JsonObject> Generated(FakeKubernetesApiServer server) =>
        GeneratedPlurals.SelectMany(p => server.All(p).Select(o => (Key: $"{p}/{o["metadata"]!["namespace"]}/{Name(o)}", Obj: o)))
            .Where(x => x.Obj["metadata"]!["labels"]?[ManagedBy]?.GetValue<string>() == "egress-webhook" && x.Obj["metadata"]!["ownerReferences"] is not null)
            .ToDictionary(x => x.Key, x => x.Obj, StringComparer.Ordinal);

    private static Task WaitForAsync(Func<bool> condition, string what) => ClusterHarness.WaitUntilAsync(condition, what);
}
