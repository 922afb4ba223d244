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

    private static readonly (string Name, ResourceKind Kind, string Object)[] Kinds =
    [
        ("VirtualService", ResourceKind.VirtualService, "egress-to-external"),
        ("ServiceEntry", ResourceKind.ServiceEntry, "ext"),
        ("Gateway", ResourceKind.Gateway, "egress"),
        ("DestinationRule", ResourceKind.DestinationRule, "egress-gateway"),
    ];

    private static EgressSnapshot Build(int objects, TextWriter progress)
    {
        var watch = Stopwatch.StartNew();
        var decoded = ManifestReader.Read(ClusterGenerator.Yaml(objects));
        var decode = watch.Elapsed;
        var snapshot = EgressSnapshot.Create(decoded);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects={snapshot.Count,6} built: decode {decode.TotalSeconds:F1} s, Create {(watch.Elapsed - decode).TotalSeconds:F1} s"));
        return snapshot;
    }

    /// <summary>Per rule, for one object of each kind: the mean time and allocation of its check and of its
    /// <c>AffectedBy</c> over <paramref name="calls"/> calls on different namespaces' objects (what a check spends where).</summary>
    public static void Explain(int objects, int calls, TextWriter output)
    {
        var snapshot = Build(objects, output);
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        foreach (var (name, kind, obj) in Kinds)
        {
            var subjects = Enumerable.Range(0, Math.Min(namespaces, calls)).Select(i => snapshot.Find(new ObjectKey(kind, $"team-{i}", obj))!).ToArray();
            foreach (var rule in EgressEngine.Default.Rules)
            {
                double check = 0, by = 0;
                long checkBytes = 0, byBytes = 0;
                for (var round = 0; round < 2; round++)
                {
                    check = by = 0;
                    checkBytes = byBytes = 0;
                    foreach (var subject in subjects)
                    {
                        var view = SnapshotView.With(snapshot, subject, CancellationToken.None);
                        var context = new RuleContext(view, RuleSettings.Default);
                        var bytes = GC.GetAllocatedBytesForCurrentThread();
                        var start = Stopwatch.GetTimestamp();
                        if (rule.AppliesTo(kind))
                        {
                            rule.Check(subject, context);
                        }

                        check += Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                        checkBytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
                        bytes = GC.GetAllocatedBytesForCurrentThread();
                        start = Stopwatch.GetTimestamp();
                        foreach (var affected in rule.AffectedBy(subject, view))
                        {
                            GC.KeepAlive(affected);
                        }

                        by += Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                        byBytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
                    }
                }

                var n = subjects.Length;
                if (check / n + by / n >= 1 || (checkBytes + byBytes) / n >= 512)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"objects={snapshot.Count,6} {name,-15} {string.Join('/', rule.Ids.Take(3)),-22} check {check / n,8:F1} µs {checkBytes / n / 1024.0,6:F1} KB | affectedBy {by / n,8:F1} µs {byBytes / n / 1024.0,6:F1} KB"));
                }
            }
        }
    }

    /// <summary>Where one check's allocation goes, per kind (the steps of <see cref="EgressEngine.CheckChange"/> done
    /// one by one on the same UPDATE as <see cref="Report"/>): the two views, the subject's own rules, and the findings
    /// the change causes in the objects that depend on it (their <c>AffectedBy</c> and their rechecks before and after).</summary>
    public static void Split(int objects, int calls, TextWriter output)
    {
        var snapshot = Build(objects, output);
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        var engine = EgressEngine.Default;
        foreach (var (name, kind, obj) in Kinds)
        {
            var changes = Enumerable.Range(0, Math.Min(namespaces, calls)).Select(i =>
            {
                var stored = snapshot.Find(new ObjectKey(kind, $"team-{i}", obj))!;
                return (Now: stored with { Metadata = stored.Metadata with { Generation = 2 } }, Old: stored);
            }).ToArray();
            long views = 0, rules = 0, caused = 0, whole = 0;
            var affected = 0;
            for (var round = 0; round < 2; round++)
            {
                views = rules = caused = whole = 0;
                affected = 0;
                foreach (var (now, old) in changes)
                {
                    var bytes = GC.GetAllocatedBytesForCurrentThread();
                    var after = SnapshotView.With(snapshot, now, CancellationToken.None);
                    var before = SnapshotView.With(snapshot, old, CancellationToken.None);
                    views += GC.GetAllocatedBytesForCurrentThread() - bytes;
                    bytes = GC.GetAllocatedBytesForCurrentThread();
                    var context = new RuleContext(after, RuleSettings.Default);
                    foreach (var rule in engine.Rules.Where(r => r.AppliesTo(kind)))
                    {
                        rule.Check(now, context);
                    }

                    rules += GC.GetAllocatedBytesForCurrentThread() - bytes;
                    bytes = GC.GetAllocatedBytesForCurrentThread();
                    affected += engine.CausedBy(now, old, before, after, RuleSettings.Default).Count();
                    caused += GC.GetAllocatedBytesForCurrentThread() - bytes;
                    bytes = GC.GetAllocatedBytesForCurrentThread();
                    engine.CheckChange(snapshot, new ObjectChange(Operation.Update, now, old), RuleSettings.Default);
                    whole += GC.GetAllocatedBytesForCurrentThread() - bytes;
                }
            }

            var n = (double)changes.Length * 1024;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"objects={snapshot.Count,6} {name,-15} CheckChange {whole / n,5:F1} KB = views {views / n,5:F1} + own rules {rules / n,5:F1} + caused by the change {caused / n,5:F1} KB (+ report); caused findings/check {affected / (double)changes.Length:F1}"));
        }
    }

    public static void Report(int objects, TextWriter output)
    {
        var snapshot = Build(objects, output);
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        foreach (var (name, kind, obj) in Kinds)
        {
            // a different namespace's object on every call, as admissions come
            var changes = Enumerable.Range(0, namespaces).Select(i =>
            {
                var stored = snapshot.Find(new ObjectKey(kind, $"team-{i}", obj)) ?? throw new InvalidOperationException($"team-{i}/{obj} not generated");
                return new ObjectChange(Operation.Update, stored with { Metadata = stored.Metadata with { Generation = 2 } }, stored);
            }).ToArray();

            // warm until tiered compilation has settled (at least 2 s and Calls/4 calls)
            var warm = Stopwatch.StartNew();
            // (bounded at 10 s: a check of milliseconds would otherwise warm for minutes)
            for (var i = 0; (i < Calls / 4 && warm.Elapsed < TimeSpan.FromSeconds(10)) || warm.Elapsed < TimeSpan.FromSeconds(2); i++)
            {
                EgressEngine.Default.CheckChange(snapshot, changes[i % changes.Length], RuleSettings.Default);
            }

            // Calls single calls, or as many as 30 s allow (at least 200): a slow kind still prints
            var times = new double[Calls];
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var measuring = Stopwatch.StartNew();
            var calls = 0;
            for (; calls < Calls && (calls < 200 || measuring.Elapsed < TimeSpan.FromSeconds(30)); calls++)
            {
                var start = Stopwatch.GetTimestamp();
                EgressEngine.Default.CheckChange(snapshot, changes[calls % changes.Length], RuleSettings.Default);
                times[calls] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Array.Sort(times, 0, calls);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"objects={snapshot.Count,6} {name,-15} p50={times[calls / 2],7:F1} µs  p99={times[calls * 99 / 100],7:F1} µs  max={times[calls - 1],8:F1} µs  " +
                $"allocated={allocated / (double)calls / 1024,5:F1} KB/check  calls={calls}"));
        }
    }
}
