using EgressWebhook.Server.Logging;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Reports;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
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

    private async Task<BackgroundAudit> StartAsync(bool served, EgressSnapshot snapshot, int maxResults = PolicyReport.DefaultMaxResults)
    {
        _server = await FakeKubernetesApiServer.StartAsync(_time);
        _server.ServePolicyReports = served;
        _store = new SnapshotStore(_time);
        _store.Publish(snapshot, "test");
        var api = new KubernetesApi(new Kubernetes(new KubernetesClientConfiguration { Host = _server.Url }), _time);
        return new BackgroundAudit(api, _store,
            Microsoft.Extensions.Options.Options.Create(new BackgroundAuditOptions { Interval = TimeSpan.FromMinutes(5), MaxResults = maxResults }),
            Microsoft.Extensions.Options.Options.Create(Settings()), _time, _logger);
    }

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
        var audit = await StartAsync(served: true, Seed());
        await audit.StartAsync(CancellationToken.None);
        try
        {
            await ClusterHarness.WaitUntilAsync(() => audit.Passes == 1, "the first pass");
            var broken = Seed("01-serviceentry-cnn.yaml");
            _store!.Publish(broken, "test");
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

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
