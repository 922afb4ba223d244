using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Tests.Cluster;
using EgressWebhook.Server.Tests.Fakes;
using Microsoft.Extensions.Logging.Testing;

namespace EgressWebhook.Server.Tests.Generation;

/// <summary>One replica: a cluster source over a shared fake API server plus a <see cref="RoutingGenerator"/> with a
/// holder identity of its own and short lease timings (lease 3 s, renew deadline 2 s, retry 0.2 s).</summary>
internal sealed class GeneratorHarness : IAsyncDisposable
{
    public const string LeaseNamespace = "egress-webhook";
    public const string LeaseName = "egress-webhook-generator";

    private readonly CancellationTokenSource _stop = new();
    private bool _disposed;

    private GeneratorHarness(ClusterHarness cluster, RoutingGenerator generator, GeneratorMetrics metrics, FakeLogger<RoutingGenerator> logger)
    {
        Cluster = cluster;
        Generator = generator;
        Metrics = metrics;
        Logger = logger;
    }

    public ClusterHarness Cluster { get; }

    public RoutingGenerator Generator { get; }

    public GeneratorMetrics Metrics { get; }

    public FakeLogger<RoutingGenerator> Logger { get; }

    public FakeKubernetesApiServer Server => Cluster.Server;

    public static GeneratorOptions TestOptions(string identity) => new()
    {
        Enabled = true,
        Identity = identity,
        LeaseName = LeaseName,
        LeaseNamespace = LeaseNamespace,
        LeaseDurationSeconds = 3,
        RenewDeadlineSeconds = 2,
        RetryPeriodSeconds = 0.2,
        ResyncSeconds = 30,
        MinBackoffSeconds = 0.1,
        MaxBackoffSeconds = 0.5,
    };

    /// <summary>Starts a replica over <paramref name="server"/> (which the caller keeps and disposes).</summary>
    public static async Task<GeneratorHarness> StartAsync(FakeKubernetesApiServer server, string identity, string? defaultGateway = null,
        Action<GeneratorOptions>? configure = null)
    {
        var cluster = await ClusterHarness.StartOverAsync(server);
        var options = TestOptions(identity);
        configure?.Invoke(options);
        var metrics = new GeneratorMetrics(Prometheus.Metrics.NewCustomRegistry());
        var logger = new FakeLogger<RoutingGenerator>();
        var generator = new RoutingGenerator(cluster.Api, cluster.Client, cluster.Source, cluster.Store,
            Microsoft.Extensions.Options.Options.Create(options), Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = WebhookOptions.ClusterSource, Mutation = new() { DefaultGateway = defaultGateway } }),
            metrics, logger);
        var harness = new GeneratorHarness(cluster, generator, metrics, logger);
        await generator.StartAsync(harness._stop.Token);
        return harness;
    }

    /// <summary>Waits until this replica leads and a pass over the snapshot that equals the server's state planned no write.</summary>
    public async Task WaitConvergedAsync()
    {
        await ClusterHarness.WaitUntilAsync(() => Generator.IsLeader, "the generator to lead");
        await ClusterHarness.WaitUntilAsync(
            () => Cluster.Store.IsReady && Cluster.SnapshotState().SetEquals(Server.Expected()) &&
                  ReferenceEquals(Generator.LastPass, Cluster.Store.Current) && Metrics.Pending.Value == 0,
            "a pass over the server's state with nothing to write");
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        await Generator.StopAsync(CancellationToken.None);
        Generator.Dispose();
        await Cluster.DisposeAsync();
        _stop.Dispose();
    }
}
