using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Snapshot;

/// <summary><see cref="EgressSnapshot.Apply"/> (what the cluster cache publishes after watch events) must give the
/// snapshot <see cref="EgressSnapshot.Create"/> builds from the same objects: same objects in the same order, same
/// findings over the whole snapshot and for single changes. Objects come from the seed and Istio's published
/// configurations (../shared/istio-corpus); the changes are seeded random puts, replacements and deletions.</summary>
public sealed class SnapshotApplyTests
{
    /// <summary>Every object of the seed and the corpus; an object whose key appears again is kept as a second
    /// version of that object (a modification when it is put over the first).</summary>
    private static List<EgressObject> Pool()
    {
        var pool = Seed.Objects();
        foreach (var file in Corpus.Files)
        {
            pool.AddRange(Corpus.Read(file));
        }

        return pool;
    }

    private static string Report(EgressSnapshot snapshot) => ReportJson.Serialize(EgressEngine.Default.CheckAll(snapshot, RuleSettings.Default));

    private static void AssertSame(EgressSnapshot expected, EgressSnapshot actual, int round)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Objects.Select(o => o.Key), actual.Objects.Select(o => o.Key));
        Assert.True(expected.Objects.SequenceEqual(actual.Objects, ReferenceEqualityComparer.Instance), $"round {round}: objects differ");
        Assert.Equal(expected.Mesh, actual.Mesh);
        Assert.Equal(Report(expected), Report(actual));
    }

    [Fact]
    public void Apply_RandomChanges_GivesTheSnapshotCreateBuilds()
    {
        var pool = Pool();
        Assert.True(pool.Count > 100, $"only {pool.Count} objects read from the seed and corpus");
        var random = new Random(18);
        var model = new Dictionary<ObjectKey, EgressObject>();
        foreach (var obj in pool.Where(_ => random.Next(2) == 0))
        {
            model[obj.Key] = obj;
        }

        var snapshot = EgressSnapshot.Create(model.Values);
        var changed = 0;
        for (var round = 0; round < 60; round++)
        {
            var batch = new List<SnapshotChange>();
            for (var i = random.Next(1, 8); i > 0; i--)
            {
                SnapshotChange change;
                if (random.Next(3) == 0 && model.Count > 0)
                {
                    // a deletion, of an existing object or (one in four) of one that is not there
                    var key = random.Next(4) == 0 ? pool[random.Next(pool.Count)].Key : model.Keys.ElementAt(random.Next(model.Count));
                    change = SnapshotChange.Delete(key);
                    model.Remove(key);
                }
                else
                {
                    var obj = pool[random.Next(pool.Count)];
                    changed += model.ContainsKey(obj.Key) ? 1 : 0;
                    change = SnapshotChange.Put(obj);
                    model[obj.Key] = obj;
                }

                batch.Add(change);
            }

            var before = Report(snapshot);
            var next = snapshot.Apply(batch);

            // the old snapshot is untouched (requests in flight keep reading it)
            Assert.Equal(before, Report(snapshot));
            AssertSame(EgressSnapshot.Create(model.Values), next, round);
            snapshot = next;
        }

        Assert.True(changed > 10, $"only {changed} replacements of an existing object");
    }

    [Fact]
    public void Apply_SingleChanges_CheckChangeAsOnCreate()
    {
        var pool = Pool();
        var random = new Random(7);
        var model = new Dictionary<ObjectKey, EgressObject>();
        foreach (var obj in pool.Where(_ => random.Next(3) != 0))
        {
            model[obj.Key] = obj; // a later version replaces an earlier one, as in Create
        }

        var snapshot = EgressSnapshot.Create(model.Values);

        // remove then put back one object at a time; each step's CheckChange of the next object as on a fresh build
        for (var round = 0; round < 40; round++)
        {
            var victim = model.Values.ElementAt(random.Next(model.Count));
            snapshot = snapshot.Apply([SnapshotChange.Delete(victim.Key)]);
            model.Remove(victim.Key);
            var fresh = EgressSnapshot.Create(model.Values);
            var create = new ObjectChange(Operation.Create, victim, null);
            Assert.Equal(ReportJson.Serialize(EgressEngine.Default.CheckChange(fresh, create, RuleSettings.Default)),
                ReportJson.Serialize(EgressEngine.Default.CheckChange(snapshot, create, RuleSettings.Default)));

            var incoming = pool[random.Next(pool.Count)];
            snapshot = snapshot.Apply([SnapshotChange.Put(incoming)]);
            model[incoming.Key] = incoming;
            fresh = EgressSnapshot.Create(model.Values);
            var delete = new ObjectChange(Operation.Delete, null, incoming);
            Assert.Equal(ReportJson.Serialize(EgressEngine.Default.CheckChange(fresh, delete, RuleSettings.Default)),
                ReportJson.Serialize(EgressEngine.Default.CheckChange(snapshot, delete, RuleSettings.Default)));
        }
    }
}
