using EgressWebhook.Core.Model;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tests.Fakes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>A fake API server and a <see cref="ClusterSnapshotSource"/> pointed at it through KubernetesClient, with
/// delays shortened for tests (a watch open 1 s past its timeout counts as dead; backoff 50–300 ms). The server sends
/// no bookmarks to quiet kinds (its default). Both run on one clock: the system's, or a fake one a test advances.</summary>
internal sealed class ClusterHarness : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly CancellationTokenSource _stop = new();
    private bool _serverDisposed;

    private ClusterHarness(FakeKubernetesApiServer server, ClusterOptions options)
    {
        Server = server;
        Options = options;
        Client = new Kubernetes(new KubernetesClientConfiguration { Host = server.Url });
        Api = new KubernetesApi(Client, server.Time);
        Store = new SnapshotStore(server.Time);
        Metrics = new ClusterMetrics(Prometheus.Metrics.NewCustomRegistry());
        Source = new ClusterSnapshotSource(Api, Store, Microsoft.Extensions.Options.Options.Create(options), server.Time, Metrics,
            NullLogger<ClusterSnapshotSource>.Instance);
        FreshReads = new ClusterFreshReadSource(Api, Source, Microsoft.Extensions.Options.Options.Create(options), Metrics,
            NullLogger<ClusterFreshReadSource>.Instance);
    }

    public FakeKubernetesApiServer Server { get; }

    public ClusterOptions Options { get; }

    public Kubernetes Client { get; }

    public KubernetesApi Api { get; }

    public SnapshotStore Store { get; }

    public ClusterMetrics Metrics { get; }

    public ClusterSnapshotSource Source { get; }

    public ClusterFreshReadSource FreshReads { get; }

    public static ClusterOptions TestOptions() => new()
    {
        DebounceMilliseconds = 20,
        WatchTimeoutSeconds = 60,
        WatchGraceSeconds = 1,
        RequestTimeoutSeconds = 5,
        StaleAfterSeconds = 1,
        MinBackoffSeconds = 0.05,
        MaxBackoffSeconds = 0.3,
        ResyncMinutes = 0,
        ListPageSize = 50,
    };

    /// <summary>Starts the fake server (arranged by <paramref name="arrange"/>) and the source.</summary>
    public static async Task<ClusterHarness> StartAsync(Action<FakeKubernetesApiServer>? arrange = null, Action<ClusterOptions>? configure = null,
        TimeProvider? time = null)
    {
        var server = await FakeKubernetesApiServer.StartAsync(time);
        arrange?.Invoke(server);
        var options = TestOptions();
        configure?.Invoke(options);
        var harness = new ClusterHarness(server, options);
        await harness.Source.StartAsync(harness._stop.Token);
        return harness;
    }

    /// <summary>Starts a source over an already running fake server (the harness then owns the server).</summary>
    public static async Task<ClusterHarness> StartOverAsync(FakeKubernetesApiServer server, Action<ClusterOptions>? configure = null)
    {
        var options = TestOptions();
        configure?.Invoke(options);
        var harness = new ClusterHarness(server, options) { _serverDisposed = true };
        await harness.Source.StartAsync(harness._stop.Token);
        return harness;
    }

    public ResourceInformer Informer(string kindName) => Source.Informers.Single(i => i.Resource.KindName == kindName);

    public Task WaitReadyAsync() => WaitUntilAsync(() => Store.IsReady, "the first snapshot");

    /// <summary>Waits until the published snapshot holds exactly the server's objects at their resourceVersions.</summary>
    public Task WaitForServerStateAsync() => WaitUntilAsync(() => Store.IsReady && SnapshotState().SetEquals(Server.Expected()), "the snapshot to equal the server's state");

    public HashSet<(ObjectKey Key, string? ResourceVersion)> SnapshotState() =>
        Store.Current.Snapshot.Objects.Select(o => (o.Key, o.Metadata.ResourceVersion)).ToHashSet();

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Stops the fake server while the source keeps running (the API server goes away).</summary>
    public async Task StopServerAsync()
    {
        _serverDisposed = true;
        await Server.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Source.StopAsync(CancellationToken.None);
        Source.Dispose();
        if (!_serverDisposed)
        {
            await Server.DisposeAsync();
        }

        Client.Dispose();
        _stop.Dispose();
    }
}
