using System.Diagnostics;
using System.Globalization;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Benchmarks;

/// <summary>The distribution of single checks: BenchmarkDotNet reports the spread of iteration means (thousands of
/// calls each), which hides the tail of one call, and the webhook answers one call at a time.</summary>
public static class Latency
{
    private const int Calls = 20_000;

    public static void Report(int objects, TextWriter output)
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterGenerator.Yaml(objects)));
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        var kinds = new (string Name, ResourceKind Kind, string Object)[]
        {
            ("VirtualService", ResourceKind.VirtualService, "egress-to-external"),
            ("ServiceEntry", ResourceKind.ServiceEntry, "ext"),
            ("Gateway", ResourceKind.Gateway, "egress"),
            ("DestinationRule", ResourceKind.DestinationRule, "egress-gateway"),
        };

        foreach (var (name, kind, obj) in kinds)
        {
            // a different namespace's object on every call, as admissions come
            var changes = Enumerable.Range(0, namespaces).Select(i =>
            {
                var stored = snapshot.Find(new ObjectKey(kind, $"team-{i}", obj)) ?? throw new InvalidOperationException($"team-{i}/{obj} not generated");
                return new ObjectChange(Operation.Update, stored with { Metadata = stored.Metadata with { Generation = 2 } }, stored);
            }).ToArray();

            // warm until tiered compilation has settled (at least 2 s and Calls/4 calls)
            var warm = Stopwatch.StartNew();
            for (var i = 0; i < Calls / 4 || warm.Elapsed < TimeSpan.FromSeconds(2); i++)
            {
                EgressEngine.Default.CheckChange(snapshot, changes[i % changes.Length], RuleSettings.Default);
            }

            var times = new double[Calls];
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Calls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                EgressEngine.Default.CheckChange(snapshot, changes[i % changes.Length], RuleSettings.Default);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Array.Sort(times);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"objects={snapshot.Count,6} {name,-15} p50={times[Calls / 2],7:F1} µs  p99={times[Calls * 99 / 100],7:F1} µs  max={times[^1],8:F1} µs  " +
                $"allocated={allocated / (double)Calls / 1024,5:F1} KB/check"));
        }
    }
}
