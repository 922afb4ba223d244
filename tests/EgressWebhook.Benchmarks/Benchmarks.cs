using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Benchmarks;

/// <summary>Median plus the 99th percentile of the per-operation times.</summary>
public sealed class LatencyConfig : ManualConfig
{
    public LatencyConfig()
    {
        AddColumn(StatisticColumn.Median, StatisticColumn.P95, new P99Column());
    }
}

/// <summary>Checking one object under admission (the webhook's path) against clusters of growing size.</summary>
[MemoryDiagnoser]
[Config(typeof(LatencyConfig))]
public class CheckObjectBenchmarks
{
    private EgressSnapshot _snapshot = EgressSnapshot.Empty;
    private ObjectChange _virtualService = null!;
    private ObjectChange _serviceEntry = null!;
    private ObjectChange _gateway = null!;

    [Params(100, 1_000, 10_000, 50_000)]
    public int Objects { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterGenerator.Yaml(Objects)));
        var ns = $"team-{ClusterGenerator.NamespacesFor(Objects) / 2}";
        _virtualService = Update(new ObjectKey(ResourceKind.VirtualService, ns, "egress-to-external"));
        _serviceEntry = Update(new ObjectKey(ResourceKind.ServiceEntry, ns, "ext"));
        _gateway = Update(new ObjectKey(ResourceKind.Gateway, ns, "egress"));
        if (!EgressEngine.Default.CheckChange(_snapshot, _virtualService, RuleSettings.Default).Allowed)
        {
            throw new InvalidOperationException("the generated cluster should be clean");
        }
    }

    private ObjectChange Update(ObjectKey key)
    {
        var stored = _snapshot.Find(key) ?? throw new InvalidOperationException($"{key} not generated");
        return new ObjectChange(Operation.Update, stored with { Metadata = stored.Metadata with { Generation = 2 } }, stored);
    }

    [Benchmark]
    public EgressReport VirtualService() => EgressEngine.Default.CheckChange(_snapshot, _virtualService, RuleSettings.Default);

    [Benchmark]
    public EgressReport ServiceEntry() => EgressEngine.Default.CheckChange(_snapshot, _serviceEntry, RuleSettings.Default);

    [Benchmark]
    public EgressReport Gateway() => EgressEngine.Default.CheckChange(_snapshot, _gateway, RuleSettings.Default);
}

/// <summary>Building the indexed snapshot (what a state reload or a cache publish costs).</summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private IReadOnlyList<EgressObject> _objects = [];

    [Params(100, 1_000, 10_000, 50_000)]
    public int Objects { get; set; }

    [GlobalSetup]
    public void Setup() => _objects = ManifestReader.Read(ClusterGenerator.Yaml(Objects));

    [Benchmark]
    public EgressSnapshot Build() => EgressSnapshot.Create(_objects);
}

/// <summary>Decoding a typical AdmissionReview body: parse, find <c>request.object</c>, decode it.</summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        var vs = YamlJson.ParseDocuments(ClusterGenerator.Yaml(12).Split("---\n")[4])[0].Json.GetRawText();
        _body = Encoding.UTF8.GetBytes($$$"""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind":{"group":"networking.istio.io","version":"v1","kind":"VirtualService"},
            "resource":{"group":"networking.istio.io","version":"v1","resource":"virtualservices"},
            "namespace":"team-0","name":"egress-to-external","operation":"CREATE",
            "userInfo":{"username":"admin","groups":["system:authenticated"]},"object":{{{vs}}},"oldObject":null,"dryRun":false} }
            """);
    }

    [Benchmark]
    public EgressObject? Decode()
    {
        using var doc = JsonDocument.Parse(_body);
        var request = doc.RootElement.GetProperty("request");
        return ObjectDecoder.Decode(request.GetProperty("object"), request.GetProperty("namespace").GetString()!);
    }
}

/// <summary>Reports the 99th percentile, which BenchmarkDotNet has no built-in column for.</summary>
public sealed class P99Column : IColumn
{
    public string Id => "P99";
    public string ColumnName => "P99";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Statistics;
    public int PriorityInCategory => 10;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Time;
    public string Legend => "99th percentile of the per-operation time";

    public string GetValue(Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        return stats is null ? "NA" : (stats.Percentiles.Percentile(99) / 1000.0).ToString("0.00", CultureInfo.InvariantCulture) + " μs";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) => false;
}
