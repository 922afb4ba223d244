using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EgressWebhook.Server.Tests.Admission;

/// <summary><see cref="IncompleteChainRecheck"/> on a fake clock: an admitted incompleteness is looked at again exactly when
/// the grace period ends, and reported (event sink, log, audit line, metric) only if it still holds.</summary>
public sealed class IncompleteChainRecheckTests : IAsyncDisposable
{
    private static readonly string Routing = File.ReadAllText(Path.Combine(TestPaths.Seed, "02-egress-gateway-routing.yaml"));

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly string _audit = Path.Combine(Path.GetTempPath(), $"egw-recheck-{Guid.NewGuid():N}.log");
    private readonly SnapshotStore _store;
    private readonly AuditLog _auditLog;
    private readonly FakeLogger<IncompleteChainRecheck> _logger = new();
    private readonly RecordingSink _sink = new();
    private readonly IncompleteChainRecheck _recheck;
    private readonly WebhookMetrics _metrics;

    public IncompleteChainRecheckTests()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { GracePeriod = TimeSpan.FromSeconds(30), AuditLog = _audit });
        _store = new SnapshotStore(_time);
        _auditLog = new AuditLog(options, new FakeLogger<AuditLog>());
        _auditLog.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _metrics = new WebhookMetrics(_store, _time, Prometheus.Metrics.NewCustomRegistry());
        var services = new ServiceCollection().AddSingleton<IChainEventSink>(_sink).BuildServiceProvider();
        _recheck = new IncompleteChainRecheck(AdmissionHandler.Default, _store, options, _auditLog, _metrics, _logger, _time, services);
    }

    [Fact]
    public async Task MeshLegWithoutGatewayLeg_ReportedWhenTheGracePeriodEnds_NotBefore()
    {
        var (decision, request) = AdmitMeshLeg(gatewayLegArrives: false);
        Assert.NotEmpty(decision.Awaiting);

        _recheck.Schedule(request, decision);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(_sink.Chains);
        Assert.Equal(1, _recheck.PendingCount);

        _time.Advance(TimeSpan.FromSeconds(1));

        var chain = await _sink.NextAsync();
        Assert.Equal("VirtualService default/mesh-to-egress-gateway", chain.Object.ToString());
        Assert.Equal("EGW113", Assert.Single(chain.Findings).Rule);
        Assert.StartsWith("still awaiting the gateway leg for edition.cnn.com (EGW113 spec.tls[0].route[0].destination)", chain.Message, StringComparison.Ordinal);
        Assert.Equal(0, _recheck.PendingCount);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1010 && r.Message.Contains("mesh-to-egress-gateway", StringComparison.Ordinal));
        await _auditLog.StopAsync(CancellationToken.None);
        var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(_audit))).RootElement;
        Assert.Equal(("recheck", "incomplete", "mesh-to-egress-gateway"), (line.GetProperty("webhook").GetString(), line.GetProperty("decision").GetString(), line.GetProperty("name").GetString()));
        Assert.Equal(["EGW113"], line.GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task GatewayLegArrivesWithinTheGracePeriod_NothingReported()
    {
        var (decision, request) = AdmitMeshLeg(gatewayLegArrives: true);

        _recheck.Schedule(request, decision);
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.True(await WebhookServer.EventuallyAsync(() => Task.FromResult(_recheck.PendingCount == 0), TimeSpan.FromSeconds(5)));
        Assert.Empty(_sink.Chains);
        Assert.DoesNotContain(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1010);
    }

    [Fact]
    public void DryRun_IsNotRechecked_AndALaterAdmissionReplacesTheEarlier()
    {
        var (decision, request) = AdmitMeshLeg(gatewayLegArrives: false);

        _recheck.Schedule(request with { DryRun = true }, decision);
        Assert.Equal(0, _recheck.PendingCount);

        _recheck.Schedule(request, decision);
        _recheck.Schedule(request with { Uid = "second" }, decision);
        Assert.Equal(1, _recheck.PendingCount);
    }

    [Fact]
    public async Task PendingSetIsCapped_BeyondItARecheckIsDroppedCountedAndLogged_AReplacementStillGoesIn()
    {
        var (decision, request) = AdmitMeshLeg(gatewayLegArrives: false);
        var options = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { GracePeriod = TimeSpan.FromSeconds(30), AuditLog = "off", MaxPendingRechecks = 2 });
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var logger = new FakeLogger<IncompleteChainRecheck>();
        using var recheck = new IncompleteChainRecheck(AdmissionHandler.Default, _store, options, _auditLog, new WebhookMetrics(_store, _time, registry), logger, _time,
            new ServiceCollection().BuildServiceProvider());

        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            recheck.Schedule(request, Renamed(decision, name));
        }

        Assert.Equal(2, recheck.PendingCount);
        Assert.Equal(2, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 1014));
        Assert.Contains("egress_webhook_chain_rechecks_dropped_total 2", await ScrapeAsync(registry), StringComparison.Ordinal);

        // an object already pending is replaced, not dropped
        recheck.Schedule(request with { Uid = "again" }, Renamed(decision, "a"));
        Assert.Equal(2, recheck.PendingCount);
        Assert.Equal(2, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 1014));

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await WebhookServer.EventuallyAsync(() => Task.FromResult(recheck.PendingCount == 0), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void StateDirectoryKeepsTheAdmittedObject_ClusterModeDoesNot()
    {
        var (decision, request) = AdmitMeshLeg(gatewayLegArrives: false);
        Assert.NotNull(decision.Admitted);
        _recheck.Schedule(request, decision);
        Assert.Equal(1, _recheck.PendingWithObjectCount);

        var options = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { GracePeriod = TimeSpan.FromSeconds(30), AuditLog = "off" });
        var cluster = new ServiceCollection().AddSingleton<ICacheHealth>(new SyncedCache()).BuildServiceProvider();
        using var recheck = new IncompleteChainRecheck(AdmissionHandler.Default, _store, options, _auditLog, new WebhookMetrics(_store, _time, Prometheus.Metrics.NewCustomRegistry()),
            new FakeLogger<IncompleteChainRecheck>(), _time, cluster);
        recheck.Schedule(request, decision);
        Assert.Equal(1, recheck.PendingCount);
        Assert.Equal(0, recheck.PendingWithObjectCount);
    }

    [Fact]
    public async Task AHugeUidIsCappedInTheLogAndTheAuditLine()
    {
        var (decision, request) = AdmitMeshLeg(gatewayLegArrives: false);
        _recheck.Schedule(request with { Uid = new string('u', 100_000) }, decision);
        _time.Advance(TimeSpan.FromSeconds(30));
        await _sink.NextAsync();

        var logged = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1010);
        Assert.True(logged.Message.Length < 2000, $"log line of {logged.Message.Length} chars");
        await _auditLog.StopAsync(CancellationToken.None);
        var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(_audit))).RootElement;
        Assert.True(line.GetProperty("uid").GetString()!.Length <= AuditFields.UidBytes);
        Assert.Equal(["uid"], line.GetProperty("truncated").EnumerateArray().Select(r => r.GetString()));
    }

    private static AdmissionDecision Renamed(AdmissionDecision decision, string name) => decision with
    {
        Awaiting = [.. decision.Awaiting.Select(f => f with { Object = f.Object with { Name = name } })],
    };

    private static async Task<string> ScrapeAsync(Prometheus.CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed class SyncedCache : ICacheHealth
    {
        public bool IsSynced => true;

        public bool IsStale => false;

        public NotSyncedBehavior WhenNotSynced => default;

        public string? Describe() => null;
    }

    public async ValueTask DisposeAsync()
    {
        _recheck.Dispose();
        await _auditLog.DisposeAsync();
        File.Delete(_audit);
    }

    /// <summary>The seed with the routing file's Gateway, in state mode (the snapshot never holds the admitted mesh
    /// leg); the gateway leg is in the snapshot published after the admission, or not.</summary>
    private (AdmissionDecision Decision, AdmissionRequest Request) AdmitMeshLeg(bool gatewayLegArrives)
    {
        var docs = Routing.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Select(d => d.Trim('\n', '-')).ToArray();
        var others = string.Join("\n---\n", Directory.GetFiles(TestPaths.Seed, "*.yaml").Where(f => !f.EndsWith("02-egress-gateway-routing.yaml", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var before = EgressSnapshot.Create(ManifestReader.Read(others + "\n---\n" + docs[0]));
        var review = JsonSerializer.Deserialize(Reviews.Create("CREATE", System.Text.Json.Nodes.JsonNode.Parse(YamlJson.ParseDocuments(docs[1]).Single().Json.GetRawText())),
            AdmissionJsonContext.Default.AdmissionReview)!;
        var decision = AdmissionHandler.Default.Validate(review.Request!, before, AdmissionSettings.Default);
        _store.Publish(gatewayLegArrives ? EgressSnapshot.Create(ManifestReader.Read(others + "\n---\n" + docs[0] + "\n---\n" + docs[2])) : before, "test");
        return (decision, review.Request!);
    }

    private sealed class RecordingSink : IChainEventSink
    {
        private readonly System.Threading.Channels.Channel<IncompleteChain> _chains = System.Threading.Channels.Channel.CreateUnbounded<IncompleteChain>();
        private readonly List<IncompleteChain> _seen = [];

        public IReadOnlyList<IncompleteChain> Chains
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public Task ReportAsync(IncompleteChain chain, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add(chain);
            }

            _chains.Writer.TryWrite(chain);
            return Task.CompletedTask;
        }

        public async Task<IncompleteChain> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return await _chains.Reader.ReadAsync(timeout.Token);
        }
    }
}
