using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Snapshot;

/// <summary><see cref="EgressSnapshot.OfKind(ResourceKind, string)"/>: the objects of a kind in one namespace, found by
/// binary search in the kind's key-ordered list (what the confirming reads compare a namespace's list with).</summary>
public sealed class OfKindInNamespaceTests
{
    private static void AssertSameAsFilter(EgressSnapshot snapshot)
    {
        foreach (var kind in Enum.GetValues<ResourceKind>())
        {
            var all = snapshot.OfKind(kind);
            foreach (var ns in all.Select(o => o.Namespace).Append("").Append("no-such-namespace").Append("zzzz").Distinct(StringComparer.Ordinal))
            {
                Assert.Equal(all.Where(o => o.Namespace == ns).Select(o => o.Key), snapshot.OfKind(kind, ns).Select(o => o.Key));
            }
        }
    }

    [Fact]
    public void OfKindInNamespace_IsTheKindFilteredByNamespace_AfterCreateAndAfterApply()
    {
        // the seed's namespaced objects copied into namespaces whose ordinal order is not their length order
        var seed = Seed.Objects();
        var objects = seed.Concat(new[] { "team-1", "team-10", "team-2", "a" }.SelectMany(ns => seed.Where(o => o.Namespace.Length > 0)
            .Select(o => o with { Metadata = o.Metadata with { Namespace = ns } }))).ToList();
        var snapshot = EgressSnapshot.Create(objects);
        Assert.Contains(Enum.GetValues<ResourceKind>(), k => snapshot.OfKind(k).Select(o => o.Namespace).Distinct().Count() > 1);
        AssertSameAsFilter(snapshot);

        // every other object deleted, one of each kind put again in a namespace of its own
        var changes = objects.Where((_, i) => i % 2 == 0).Select(o => SnapshotChange.Delete(o.Key))
            .Concat(objects.Where(o => o.Namespace.Length > 0).GroupBy(o => o.ResourceKind).Select(g => SnapshotChange.Put(g.First() with { Metadata = g.First().Metadata with { Namespace = "aaa-new" } })))
            .ToList();
        var applied = snapshot.Apply(changes);
        Assert.NotEmpty(applied.OfKind(ResourceKind.ServiceEntry, "aaa-new"));
        AssertSameAsFilter(applied);
    }
}
