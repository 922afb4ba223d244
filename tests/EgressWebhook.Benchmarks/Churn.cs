using System.Diagnostics;
using System.Globalization;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Benchmarks;

/// <summary>Watch events applied one at a time to an N-object snapshot (<see cref="EgressSnapshot.Apply"/>), each timed
/// alone: what the cluster cache pays per event. With <c>--compare</c>, also the rebuild it replaced
/// (<see cref="EgressSnapshot.Create"/> of every object, as the cache did per batch of events).</summary>
public static class Churn
{
    private const int Events = 1_000;
    private const int Rebuilds = 10;

    public static void Report(int objects, bool compare, TextWriter output)
    {
        var all = ManifestReader.Read(ClusterGenerator.Yaml(objects));
        var snapshot = EgressSnapshot.Create(all);
        var events = EventsFor(snapshot, ClusterGenerator.NamespacesFor(objects), new Random(18));

        // warm-up on a copy of the sequence (tiered compilation), then the measured run from the same start
        var warm = snapshot;
        foreach (var change in events.Take(200))
        {
            warm = warm.Apply([change]);
        }

        GC.Collect();
        var times = new double[events.Count];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var current = snapshot;
        for (var i = 0; i < events.Count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            current = current.Apply([events[i]]);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Array.Sort(times);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects={snapshot.Count,6} apply one event: median={times[times.Length / 2]:F3} ms p99={times[times.Length * 99 / 100]:F3} ms " +
            $"max={times[^1]:F3} ms allocated={allocated / (double)events.Count / 1024:F1} KB/event ({events.Count} events, final {current.Count} objects)"));

        if (!compare)
        {
            return;
        }

        var rebuild = new double[Rebuilds];
        var objectsNow = current.Objects.ToList();
        for (var i = 0; i < Rebuilds; i++)
        {
            var start = Stopwatch.GetTimestamp();
            GC.KeepAlive(EgressSnapshot.Create(objectsNow));
            rebuild[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(rebuild);
        var median = times[times.Length / 2];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects={snapshot.Count,6} rebuild (Create):  median={rebuild[Rebuilds / 2]:F1} ms min={rebuild[0]:F1} ms over {Rebuilds}; " +
            $"rebuild / apply (medians) = {rebuild[Rebuilds / 2] / median:F0}x"));
    }

    /// <summary>A seeded mix of watch events on random namespaces: 80% updates of existing objects (a new
    /// resourceVersion; every fourth changes the ServiceEntry's host), 10% new ServiceEntries, 10% deletions (of an
    /// object added before, else of an existing VirtualService).</summary>
    public static List<SnapshotChange> EventsFor(EgressSnapshot snapshot, int namespaces, Random random)
    {
        var names = new[]
        {
            (ResourceKind.ServiceEntry, "ext"), (ResourceKind.Gateway, "egress"), (ResourceKind.VirtualService, "egress-to-external"),
            (ResourceKind.DestinationRule, "egress-gateway"),
        };
        var events = new List<SnapshotChange>(Events);
        var added = new List<ObjectKey>();
        var version = 1_000_000;
        for (var i = 0; i < Events; i++)
        {
            var ns = string.Create(CultureInfo.InvariantCulture, $"team-{random.Next(namespaces)}");
            var roll = random.Next(10);
            if (roll == 0)
            {
                var template = (ServiceEntry)snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, ns, "ext"))!;
                var name = string.Create(CultureInfo.InvariantCulture, $"new-{i}");
                var se = template with
                {
                    Metadata = template.Metadata with { Name = name, ResourceVersion = (++version).ToString(CultureInfo.InvariantCulture) },
                    Spec = template.Spec with { Hosts = [string.Create(CultureInfo.InvariantCulture, $"{name}.{ns}.example.org")] },
                };
                added.Add(se.Key);
                events.Add(SnapshotChange.Put(se));
            }
            else if (roll == 1)
            {
                ObjectKey key;
                if (added.Count > 0)
                {
                    key = added[^1];
                    added.RemoveAt(added.Count - 1);
                }
                else
                {
                    key = new ObjectKey(ResourceKind.VirtualService, ns, "egress-to-external");
                }

                events.Add(SnapshotChange.Delete(key));
            }
            else
            {
                var (kind, name) = names[random.Next(names.Length)];
                if (snapshot.Find(new ObjectKey(kind, ns, name)) is not { } stored)
                {
                    throw new InvalidOperationException($"{kind} {ns}/{name} not generated");
                }

                var updated = stored with { Metadata = stored.Metadata with { ResourceVersion = (++version).ToString(CultureInfo.InvariantCulture) } };
                if (updated is ServiceEntry se && i % 4 == 0)
                {
                    updated = se with { Spec = se.Spec with { Hosts = [string.Create(CultureInfo.InvariantCulture, $"moved-{i}.example.com")] } };
                }

                events.Add(SnapshotChange.Put(updated));
            }
        }

        return events;
    }
}
