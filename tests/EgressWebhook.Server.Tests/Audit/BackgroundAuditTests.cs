using EgressWebhook.Server.Logging;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Reports;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tests.Cluster;
using EgressWebhook.Server.Tests.Fakes;
using EgressWebhook.Server.Tests.Infrastructure;
using k8s;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EgressWebhook.Server.Tests.Audit;

/// <summary>The background audit against the fake API server: reports created, unchanged content a no-op, stale
/// reports deleted, bounded results, CRDs absent, the interval on a fake clock.</summary>
public sealed class BackgroundAuditTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger<BackgroundAudit> _logger = new();
    private FakeKubernetesApiServer? _server;
    private SnapshotStore? _store;

    /// <summary>The seed with some of its files left out (its ServiceEntry for the routed host, its gateway leg …).</summary>
    private static EgressSnapshot Seed(params string[] without)
    {
        var objects = new List<EgressObject>();
        foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal))
        {
            if (without.Contains(Path.GetFileName(file)))
            {
                continue;
            }

            objects.AddRange(ManifestReader.Read(File.ReadAllText(file)));
        }

        return EgressSnapshot.Create(objects);
    }

    private static IReadOnlyList<PolicyReport> Expected(EgressSnapshot snapshot, int maxResults = PolicyReport.DefaultMaxResults) =>
        PolicyReports.Build(EgressEngine.Default.CheckAll(snapshot, Settings().ToSettings().Policy), snapshot.Objects, maxResults);

    private static WebhookOptions Settings() => new() { Source = WebhookOptions.ClusterSource };

    private readonly Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly List<IncompleteChain> _chainEvents = [];
    private readonly List<BackgroundAudit> _started = [];

    private async Task<BackgroundAudit> StartAsync(bool served, EgressSnapshot snapshot, int maxResults = PolicyReport.DefaultMaxResults,
        Action<BackgroundAuditOptions>? configure = null, IChainEventSink? events = null)
    {
        _server = await FakeKubernetesApiServer.StartAsync(_time);
        _server.ServePolicyReports = served;
        _store = new SnapshotStore(_time);
        _store.Publish(snapshot, "test");
        return Replica("replica-a", maxResults, configure, events, _logger);
    }

    /// <summary>One more replica over the same fake API server and snapshots, short lease timings (3 s / 2 s / 0.2 s).</summary>
    private BackgroundAudit Replica(string identity, int maxResults = PolicyReport.DefaultMaxResults, Action<BackgroundAuditOptions>? configure = null,
        IChainEventSink? events = null, FakeLogger<BackgroundAudit>? logger = null, Prometheus.CollectorRegistry? registry = null)
    {
        var options = new BackgroundAuditOptions
        {
            Interval = TimeSpan.FromMinutes(5),
            MaxResults = maxResults,
            Identity = identity,
            LeaseNamespace = LeaseNamespace,
            LeaseDurationSeconds = 3,
            RenewDeadlineSeconds = 2,
            RetryPeriodSeconds = 0.2,
        };
        configure?.Invoke(options);
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = _server!.Url });
        var api = new KubernetesApi(client, _time);
        return new BackgroundAudit(api, client, _store!, Microsoft.Extensions.Options.Options.Create(options),
            Microsoft.Extensions.Options.Options.Create(Settings()), _time, logger ?? new FakeLogger<BackgroundAudit>(), registry ?? _registry,
            events ?? new RecordingEvents(_chainEvents));
    }

    private const string LeaseNamespace = "egress-webhook";

    private sealed class RecordingEvents(List<IncompleteChain> events) : IChainEventSink
    {
        public Task ReportAsync(IncompleteChain chain, CancellationToken cancellationToken)
        {
            lock (events)
            {
                events.Add(chain);
            }

            return Task.CompletedTask;
        }
    }

    private async Task StartServiceAsync(BackgroundAudit audit)
    {
        _started.Add(audit);
        await audit.StartAsync(CancellationToken.None);
    }

    /// <summary>Waits until the loop waits on the clock or for a signal (then advancing the fake clock is seen by its timer).</summary>
    private static Task IdleAsync(BackgroundAudit audit) => ClusterHarness.WaitUntilAsync(() => audit.WaitingUntil is not null, "the audit loop to wait");

    /// <summary>The reports the server holds, as (plural, namespace) → object.</summary>
    private Dictionary<(string, string), JsonObject> Stored() =>
        _server!.All("policyreports").Select(o => (("policyreports", o["metadata"]!["namespace"]!.GetValue<string>()), o))
            .Concat(_server.All("clusterpolicyreports").Select(o => (("clusterpolicyreports", ""), o)))
            .ToDictionary(p => p.Item1, p => p.o);

    private void AssertServerHolds(IReadOnlyList<PolicyReport> expected)
    {
        var stored = Stored();
        Assert.Equal(expected.Select(r => (r.Plural, r.Namespace ?? "")).Order(), stored.Keys.Order());
        foreach (var r in expected)
        {
            var json = r.ToJson();
            var got = stored[(r.Plural, r.Namespace ?? "")];
            Assert.True(JsonNode.DeepEquals(json["summary"], got["summary"]), $"summary of {r.Namespace}: {got["summary"]}");
            Assert.True(JsonNode.DeepEquals(json["results"], got["results"]), $"results of {r.Namespace}");
            Assert.Equal(json["metadata"]!["annotations"]?.ToJsonString(), got["metadata"]!["annotations"]?.ToJsonString());
            Assert.Equal(ManagedBy.Value, got["metadata"]!["labels"]![ManagedBy.Label]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task RunOnce_BrokenSeed_CreatesOneReportPerScopeWithFindings_BySsa()
    {
        var snapshot = Seed("01-serviceentry-cnn.yaml");
        var expected = Expected(snapshot);
        Assert.NotEmpty(expected);
        var audit = await StartAsync(served: true, snapshot);

        var pass = await audit.RunOnceAsync(CancellationToken.None);

        Assert.False(pass.CrdMissing);
        Assert.Equal(expected.Count, pass.Applied);
        Assert.Equal(0, pass.Failed);
        AssertServerHolds(expected);
        var writes = _server!.AllWrites().Where(w => w.Plural is "policyreports" or "clusterpolicyreports").ToList();
        Assert.All(writes, w => Assert.Equal(("apply", "egress-webhook", true), (w.Verb, w.FieldManager, w.Force)));
        Assert.All(writes, w => Assert.StartsWith("application/apply-patch+yaml", w.ContentType));
    }

    [Fact]
    public async Task RunOnce_SameSnapshotTwice_LeavesEveryReportUnchanged()
    {
        var audit = await StartAsync(served: true, Seed("01-serviceentry-cnn.yaml"));
        await audit.RunOnceAsync(CancellationToken.None);
        var before = Stored().ToDictionary(p => p.Key, p => p.Value["metadata"]!["resourceVersion"]!.GetValue<string>());
        var serverVersion = _server!.ResourceVersion;

        await audit.RunOnceAsync(CancellationToken.None);

        Assert.NotEmpty(before);
        Assert.Equal(before, Stored().ToDictionary(p => p.Key, p => p.Value["metadata"]!["resourceVersion"]!.GetValue<string>()));
        Assert.Equal(serverVersion, _server.ResourceVersion);
    }

    [Fact]
    public async Task RunOnce_AfterTheFix_UpdatesOrDeletesReports_AndLeavesOthersReportsAlone()
    {
        var broken = Seed("01-serviceentry-cnn.yaml");
        var audit = await StartAsync(served: true, broken);
        await audit.RunOnceAsync(CancellationToken.None);
        var brokenScopes = Expected(broken).Select(r => (r.Plural, r.Namespace ?? "")).ToHashSet();
        // a report of another tool in a namespace of ours, and one of ours by name but not by label
        var ns = brokenScopes.First(s => s.Plural == "policyreports").Item2;
        _server!.Preload([Report(ns, "kyverno-polr", labelled: true), Report(ns + "-other", PolicyReport.ReportName, labelled: false)]);

        var fixedSnapshot = Seed();
        _store!.Publish(fixedSnapshot, "test");
        var pass = await audit.RunOnceAsync(CancellationToken.None);

        var expected = Expected(fixedSnapshot);
        var stale = brokenScopes.Except(expected.Select(r => (r.Plural, r.Namespace ?? ""))).Count();
        Assert.True(stale > 0, "the fix must leave a scope without findings");
        Assert.Equal(stale, pass.Deleted);
        Assert.NotNull(_server.Get("policyreports", ns, "kyverno-polr"));
        Assert.NotNull(_server.Get("policyreports", ns + "-other", PolicyReport.ReportName));
        Assert.Contains(_server.Writes("policyreports"), w => w.Verb == "delete");
        var ours = Stored().Where(p => p.Value["metadata"]!["name"]!.GetValue<string>() == PolicyReport.ReportName &&
                                       p.Value["metadata"]!["labels"]?[ManagedBy.Label] is not null).Select(p => p.Key).Order();
        Assert.Equal(expected.Select(r => (r.Plural, r.Namespace ?? "")).Order(), ours);
    }

    private static JsonObject Report(string ns, string name, bool labelled) => new()
    {
        ["apiVersion"] = PolicyReport.ApiVersion,
        ["kind"] = "PolicyReport",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["labels"] = labelled ? new JsonObject { [ManagedBy.Label] = "kyverno" } : new JsonObject(),
        },
        ["results"] = new JsonArray(),
    };

    [Fact]
    public async Task RunOnce_MaxResults_BoundsEachReport_SummaryCountsAll()
    {
        var snapshot = Seed("01-serviceentry-cnn.yaml", "04-serviceentry-google.yaml");
        var unbounded = Expected(snapshot);
        Assert.True(unbounded.Any(r => r.Results.Count > 1), "the broken seed must give a report with more than one result");
        var audit = await StartAsync(served: true, snapshot, maxResults: 1);

        await audit.RunOnceAsync(CancellationToken.None);

        AssertServerHolds(Expected(snapshot, maxResults: 1));
        foreach (var r in unbounded.Where(r => r.Results.Count > 1))
        {
            var stored = _server!.Get(r.Plural, r.Namespace ?? "", PolicyReport.ReportName)!;
            Assert.Single(stored["results"]!.AsArray());
            Assert.Equal((r.Results.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                stored["metadata"]!["annotations"]![PolicyReport.OmittedAnnotation]!.GetValue<string>());
            Assert.Equal(r.Summary.Fail, stored["summary"]!["fail"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task RunOnce_CrdsAbsent_LogsOnceWritesNothing_ThenWritesWhenInstalled()
    {
        var snapshot = Seed("01-serviceentry-cnn.yaml");
        var audit = await StartAsync(served: false, snapshot);

        var first = await audit.RunOnceAsync(CancellationToken.None);
        var second = await audit.RunOnceAsync(CancellationToken.None);

        Assert.True(first.CrdMissing && second.CrdMissing);
        Assert.True(first.Findings > 0);
        Assert.Empty(_server!.AllWrites());
        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.BackgroundAudit.ReportsNotServed);

        _server.ServePolicyReports = true;
        var third = await audit.RunOnceAsync(CancellationToken.None);
        Assert.False(third.CrdMissing);
        AssertServerHolds(Expected(snapshot));
    }

    [Fact]
    public async Task Service_RunsAtStart_ThenEveryInterval_OnTheFakeClock()
    {
        // a settle time as long as the interval: the change below runs no pass of its own before the interval
        var audit = await StartAsync(served: true, Seed(), configure: o => o.Settle = o.Interval);
        await audit.StartAsync(CancellationToken.None);
        try
        {
            await ClusterHarness.WaitUntilAsync(() => audit.Passes == 1, "the first pass");
            var broken = Seed("01-serviceentry-cnn.yaml");
            _store!.Publish(broken, "test");
            await IdleAsync(audit);
            _time.Advance(TimeSpan.FromMinutes(4));
            Assert.Equal(1, audit.Passes);

            _time.Advance(TimeSpan.FromMinutes(1));
            await ClusterHarness.WaitUntilAsync(() => audit.Passes == 2, "the pass after the interval");
            AssertServerHolds(Expected(broken));
        }
        finally
        {
            await audit.StopAsync(CancellationToken.None);
            audit.Dispose();
        }
    }

    [Theory]
    [InlineData("State", "00:05:00", "requires Webhook:Source=Cluster")]
    [InlineData("Cluster", "00:00:00.500", "must be at least 00:00:01")]
    public void Options_Invalid_FailAtStart(string source, string interval, string message)
    {
        var validator = new BackgroundAuditOptionsValidator(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = source }));

        var result = validator.Validate(null, new BackgroundAuditOptions { Interval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Unset_IsOffAndValid()
    {
        var validator = new BackgroundAuditOptionsValidator(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = "State" }));

        Assert.True(validator.Validate(null, new BackgroundAuditOptions()).Succeeded);
    }

    [Fact]
    public async Task Service_TwoReplicas_OnlyTheLeaseHolderAudits_TheOtherTakesOverWhenItStops()
    {
        var audit = await StartAsync(served: true, Seed("01-serviceentry-cnn.yaml"));
        var otherLogger = new FakeLogger<BackgroundAudit>();
        var other = Replica("replica-b", logger: otherLogger, registry: Prometheus.Metrics.NewCustomRegistry());
        await StartServiceAsync(audit);
        await StartServiceAsync(other);

        await ClusterHarness.WaitUntilAsync(() => audit.IsLeader || other.IsLeader, "one replica to lead");
        var (leader, follower) = audit.IsLeader ? (audit, other) : (other, audit);
        await ClusterHarness.WaitUntilAsync(() => leader.Passes == 1, "the leader's first pass");
        await IdleAsync(follower);

        Assert.Equal(0, follower.Passes);
        Assert.False(follower.IsLeader);
        Assert.Equal(leader.Identity, _server!.LeaseHolder(LeaseNamespace, "egress-webhook-audit"));
        // the generator's Lease is not the audit's
        Assert.Null(_server.LeaseHolder(LeaseNamespace, "egress-webhook-generator"));
        var leaderLog = (ReferenceEquals(leader, audit) ? _logger : otherLogger).Collector.GetSnapshot();
        var started = Assert.Single(leaderLog, r => r.Id.Id == EventIds.Leadership.StartedLeading);
        Assert.Contains("Background audit", started.Message, StringComparison.Ordinal);
        Assert.Contains("egress-webhook-audit", started.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Generator", started.Message, StringComparison.Ordinal);

        await leader.StopAsync(CancellationToken.None);
        await ClusterHarness.WaitUntilAsync(() => follower.IsLeader && follower.Passes == 1, "the other replica to lead and audit");
        Assert.Equal(follower.Identity, _server.LeaseHolder(LeaseNamespace, "egress-webhook-audit"));
    }

    [Fact]
    public async Task Service_AfterAChange_PassRunsOnceTheSnapshotSettled()
    {
        var audit = await StartAsync(served: true, Seed(), configure: o => o.Settle = TimeSpan.FromSeconds(10));
        await StartServiceAsync(audit);
        await ClusterHarness.WaitUntilAsync(() => audit.Passes == 1, "the first pass");
        await IdleAsync(audit);

        var broken = Seed("01-serviceentry-cnn.yaml");
        _store!.Publish(broken, "test");
        await IdleAsync(audit);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(10), audit.WaitingUntil);
        _time.Advance(TimeSpan.FromSeconds(9));
        await IdleAsync(audit);
        Assert.Equal(1, audit.Passes);

        _time.Advance(TimeSpan.FromSeconds(1));
        await ClusterHarness.WaitUntilAsync(() => audit.Passes == 2, "the pass after the settle time");
        AssertServerHolds(Expected(broken));
        await IdleAsync(audit);
        // nothing changed since: the next pass is the interval's
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(5), audit.WaitingUntil);
    }

    [Fact]
    public async Task Service_SteadyChurn_AtMostOnePassPerSettleTime_AtLeastOnePerInterval()
    {
        var settle = TimeSpan.FromSeconds(10);
        var interval = TimeSpan.FromMinutes(1);
        var audit = await StartAsync(served: true, Seed(), configure: o => (o.Interval, o.Settle) = (interval, settle));
        await StartServiceAsync(audit);
        await ClusterHarness.WaitUntilAsync(() => audit.Passes == 1, "the first pass");
        await IdleAsync(audit);
        var start = _time.GetUtcNow();
        var passes = new List<DateTimeOffset> { start };
        var snapshots = new[] { Seed("01-serviceentry-cnn.yaml"), Seed() };

        // a change every 5 s for 3 minutes: the snapshot never stays unchanged for the settle time
        for (var i = 1; i <= 36; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await IdleAsync(audit);
            if (audit.Passes > passes.Count)
            {
                passes.Add(_time.GetUtcNow());
            }

            _store!.Publish(snapshots[i % 2], "test");
            await IdleAsync(audit);
        }

        Assert.Equal(passes.Count, audit.Passes);
        Assert.Equal([start, start + interval, start + 2 * interval, start + 3 * interval], passes);

        // then the changes stop: one pass a settle time after the last one
        var last = _time.GetUtcNow();
        _time.Advance(settle);
        await ClusterHarness.WaitUntilAsync(() => audit.Passes == passes.Count + 1, "the pass after the churn settled");
        var gaps = passes.Append(last + settle).Zip(passes.Append(last + settle).Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, g => Assert.InRange(g, settle, interval));
    }

    /// <summary>The gauge's series as (rule, severity, namespace) → value, read from the /metrics text.</summary>
    private async Task<Dictionary<(string Rule, string Severity, string Namespace), double>> FindingGaugesAsync()
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        var series = new Dictionary<(string, string, string), double>();
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("egress_webhook_audit_findings{", StringComparison.Ordinal)))
        {
            var labels = System.Text.RegularExpressions.Regex.Matches(line[..line.IndexOf('}', StringComparison.Ordinal)], "(\\w+)=\"([^\"]*)\"")
                .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            series[(labels["rule"], labels["severity"], labels["namespace"])] =
                double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return series;
    }

    private static Dictionary<(string Rule, string Severity, string Namespace), double> Counts(EgressSnapshot snapshot) =>
        EgressEngine.Default.CheckAll(snapshot, Settings().ToSettings().Policy).Findings
            .GroupBy(f => (f.Rule, f.Severity == Severity.Error ? "error" : "warning", f.Object.Namespace))
            .ToDictionary(g => g.Key, g => (double)g.Count());

    [Fact]
    public async Task RunOnce_SetsFindingGauges_AndRemovesSeriesThatWentAway()
    {
        var broken = Seed("01-serviceentry-cnn.yaml", "04-serviceentry-google.yaml");
        var audit = await StartAsync(served: false, broken);
        Assert.Empty(await FindingGaugesAsync());

        await audit.RunOnceAsync(CancellationToken.None);

        var before = await FindingGaugesAsync();
        Assert.NotEmpty(before);
        Assert.Equal(Counts(broken).OrderBy(p => p.Key), before.OrderBy(p => p.Key));

        var lessBroken = Seed("01-serviceentry-cnn.yaml");
        _store!.Publish(lessBroken, "test");
        await audit.RunOnceAsync(CancellationToken.None);

        var after = await FindingGaugesAsync();
        Assert.Equal(Counts(lessBroken).OrderBy(p => p.Key), after.OrderBy(p => p.Key));

        _store.Publish(Seed(), "test");
        await audit.RunOnceAsync(CancellationToken.None);
        var fixedSeries = await FindingGaugesAsync();
        Assert.Equal(Counts(Seed()).OrderBy(p => p.Key), fixedSeries.OrderBy(p => p.Key));
        // series without findings are gone from /metrics, not left at a stale value (nor set to 0)
        Assert.True(after.Keys.Except(fixedSeries.Keys).Any(), "the fix must leave a series without findings");
        Assert.DoesNotContain(fixedSeries.Values, v => v == 0);
    }

    [Fact]
    public async Task RunOnce_IncompletenessPastTheGracePeriod_OneEventPerObjectAndRule()
    {
        var broken = Seed("01-serviceentry-cnn.yaml");
        var incomplete = EgressEngine.Default.CheckAll(broken, Settings().ToSettings().Policy).Findings.Where(f => f.Awaits is not null).ToList();
        Assert.NotEmpty(incomplete);
        var grace = Settings().ToSettings().GracePeriod;
        var audit = await StartAsync(served: true, broken);

        await audit.RunOnceAsync(CancellationToken.None);
        _time.Advance(grace - TimeSpan.FromSeconds(1));
        await audit.RunOnceAsync(CancellationToken.None);
        Assert.Empty(_chainEvents);

        _time.Advance(TimeSpan.FromSeconds(1));
        await audit.RunOnceAsync(CancellationToken.None);
        var objects = incomplete.Select(f => f.Object).Distinct().Order().ToList();
        Assert.Equal(objects, _chainEvents.Select(e => e.Object).Order());
        Assert.Equal(incomplete.Select(f => (f.Object, f.Rule)).Distinct().Order(), _chainEvents.SelectMany(e => e.Findings.Select(f => (f.Object, f.Rule))).Order());
        Assert.All(_chainEvents, e => Assert.All(e.Findings, f => Assert.NotNull(f.Awaits)));
        Assert.All(_chainEvents, e => Assert.Equal(broken.Find(new ObjectKey(Enum.Parse<ResourceKind>(e.Object.Kind), e.Object.Namespace, e.Object.Name))?.Metadata.Uid, e.Uid));

        // still there in later passes: no Event again
        _time.Advance(TimeSpan.FromMinutes(5));
        await audit.RunOnceAsync(CancellationToken.None);
        Assert.Equal(objects.Count, _chainEvents.Count);

        // fixed, then broken again: the grace period starts anew
        _store!.Publish(Seed(), "test");
        await audit.RunOnceAsync(CancellationToken.None);
        _store.Publish(broken, "test");
        await audit.RunOnceAsync(CancellationToken.None);
        _time.Advance(grace - TimeSpan.FromSeconds(1));
        await audit.RunOnceAsync(CancellationToken.None);
        Assert.Equal(objects.Count, _chainEvents.Count);
        _time.Advance(TimeSpan.FromSeconds(1));
        await audit.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2 * objects.Count, _chainEvents.Count);
    }

    [Fact]
    public async Task RunOnce_IncompletenessPastTheGracePeriod_IsAnEventOnTheFakeApiServer()
    {
        var broken = Seed("01-serviceentry-cnn.yaml");
        _server = await FakeKubernetesApiServer.StartAsync(_time);
        _store = new SnapshotStore(_time);
        _store.Publish(broken, "test");
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = _server.Url });
        var api = new KubernetesApi(client, _time);
        var audit = Replica("replica-a", events: new ClusterChainEvents(api, _time, new FakeLogger<ClusterChainEvents>()));

        await audit.RunOnceAsync(CancellationToken.None);
        _time.Advance(Settings().ToSettings().GracePeriod);
        await audit.RunOnceAsync(CancellationToken.None);
        await audit.RunOnceAsync(CancellationToken.None);

        var incomplete = EgressEngine.Default.CheckAll(broken, Settings().ToSettings().Policy).Findings.Where(f => f.Awaits is not null).ToList();
        var events = _server.Events;
        Assert.Equal(incomplete.Select(f => f.Object).Distinct().Count(), events.Count);
        Assert.All(events, e => Assert.Equal((IncompleteChain.Reason, "Warning"), (e["reason"]!.GetValue<string>(), e["type"]!.GetValue<string>())));
        Assert.Equal(incomplete.Select(f => f.Object.Name).Distinct().Order(), events.Select(e => e["involvedObject"]!["name"]!.GetValue<string>()).Order());
        Assert.All(events, e => Assert.Contains("still awaiting", e["message"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("State", true, null, null, "Webhook:Audit:Enabled=true requires Webhook:Source=Cluster")]
    [InlineData("Cluster", null, "00:01:00", "00:02:00", "must be from 00:00:00.1 up to Webhook:Audit:Interval (00:01:00)")]
    [InlineData("Cluster", null, null, "00:00:00", "Webhook:Audit:Settle 00:00:00 must be from")]
    public void Options_InvalidSettleOrEnabled_FailAtStart(string source, bool? enabled, string? interval, string? settle, string message)
    {
        var validator = new BackgroundAuditOptionsValidator(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = source }));
        static TimeSpan? Span(string? s) => s is null ? null : TimeSpan.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

        var result = validator.Validate(null, new BackgroundAuditOptions { Enabled = enabled, Interval = Span(interval), Settle = Span(settle) });

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_OnInClusterMode_OffWithTheStateDirectory_OffWhenSaidSo()
    {
        var defaults = new BackgroundAuditOptions();
        var cluster = new BackgroundAuditOptionsValidator(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = WebhookOptions.ClusterSource }));
        var state = new BackgroundAuditOptionsValidator(Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = WebhookOptions.StateSource }));

        Assert.True(cluster.Validate(null, defaults).Succeeded);
        Assert.True(defaults.IsActive(WebhookOptions.ClusterSource));
        Assert.False(defaults.IsActive(WebhookOptions.StateSource));
        Assert.False(new BackgroundAuditOptions { Enabled = false }.IsActive(WebhookOptions.ClusterSource));
        Assert.True(state.Validate(null, new BackgroundAuditOptions { Enabled = false, Interval = TimeSpan.FromMinutes(1) }).Succeeded);
        Assert.Equal((TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), "egress-webhook-audit"), (defaults.EffectiveInterval, defaults.EffectiveSettle, defaults.LeaseName));
    }

    /// <summary>The whole host (Program's registration, a kubeconfig to the fake API server): the audit leads its own Lease
    /// and writes the reports of the cluster's state.</summary>
    [Fact]
    public async Task Host_ClusterSource_AuditLeadsItsLease_AndWritesTheClustersReports()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.ServePolicyReports = true;
            foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml").Where(f => !f.EndsWith("01-serviceentry-cnn.yaml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                api.Apply(File.ReadAllText(file));
            }
        }, new Dictionary<string, string>
        {
            ["Webhook:Audit:Enabled"] = "true",
            ["Webhook:Audit:Identity"] = "host-replica",
            ["Webhook:Audit:LeaseNamespace"] = LeaseNamespace,
            ["Webhook:Audit:LeaseDurationSeconds"] = "3",
            ["Webhook:Audit:RenewDeadlineSeconds"] = "2",
            ["Webhook:Audit:RetryPeriodSeconds"] = "0.2",
        });

        await ClusterHarness.WaitUntilAsync(() => w.Api.All("policyreports").Count > 0, "the host's audit to write a PolicyReport");
        Assert.Equal("host-replica", w.Api.LeaseHolder(LeaseNamespace, "egress-webhook-audit"));
        var report = Assert.Single(w.Api.All("policyreports"), r => r["metadata"]!["namespace"]!.GetValue<string>() == "default");
        Assert.True(report["summary"]!["fail"]!.GetValue<int>() > 0);
        Assert.Contains(report["results"]!.AsArray(), r => r!["properties"]!["kind"]!.GetValue<string>() == "incompleteness");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var audit in _started)
        {
            await audit.StopAsync(CancellationToken.None);
            audit.Dispose();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
