using System.Collections.Immutable;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>A persistent map from a key to a sorted list of distinct items: a change copies the path to the changed
/// key and list, and shares every other node with the map it came from (System.Collections.Immutable).</summary>
/// <remarks>Lists are sorted by the item comparer (each item once), so their order does not depend on the order of
/// changes: a map built in one pass and one reached by any sequence of adds and removes of the same items enumerate
/// alike. Lists are <see cref="ImmutableList{T}"/> kept sorted by binary search: a bulk build sorts each list once and
/// builds its tree bottom-up (<see cref="ImmutableList.CreateRange{T}"/>), where a sorted set would go through a
/// mutable red-black tree per list.</remarks>
internal sealed class SortedMultiMap<TKey, T>
    where TKey : notnull
{
    private readonly ImmutableDictionary<TKey, ImmutableList<T>> _map;
    private readonly IComparer<T> _items;

    private SortedMultiMap(ImmutableDictionary<TKey, ImmutableList<T>> map, IComparer<T> items)
    {
        _map = map;
        _items = items;
    }

    public static SortedMultiMap<TKey, T> Create(IEqualityComparer<TKey> keys, IComparer<T> items) =>
        new(ImmutableDictionary.Create<TKey, ImmutableList<T>>(keys), items);

    /// <summary>Number of keys.</summary>
    public int Count => _map.Count;

    /// <summary>The items under <paramref name="key"/> (empty when none), sorted.</summary>
    public ImmutableList<T> this[TKey key] => _map.TryGetValue(key, out var list) ? list : ImmutableList<T>.Empty;

    /// <summary>Every key with its items.</summary>
    public IEnumerable<KeyValuePair<TKey, ImmutableList<T>>> Pairs => _map;

    public bool TryGetValue(TKey key, out ImmutableList<T> list)
    {
        if (_map.TryGetValue(key, out var found))
        {
            list = found;
            return true;
        }

        list = ImmutableList<T>.Empty;
        return false;
    }

    /// <summary>A builder: <paramref name="bulk"/> collects adds in lists and sorts each once at the end (for a build
    /// from nothing); otherwise each add or remove updates the list in place.</summary>
    public Builder ToBuilder(bool bulk = false) => new(this, bulk);

    internal sealed class Builder
    {
        private readonly ImmutableDictionary<TKey, ImmutableList<T>>.Builder _map;
        private readonly IComparer<T> _items;
        private Dictionary<TKey, List<T>>? _staged;

        public Builder(SortedMultiMap<TKey, T> from, bool bulk)
        {
            _map = from._map.ToBuilder();
            _items = from._items;
            _staged = bulk ? new Dictionary<TKey, List<T>>(from._map.KeyComparer) : null;
        }

        public void Add(TKey key, T item)
        {
            if (_staged is not null)
            {
                if (!_staged.TryGetValue(key, out var staged))
                {
                    _staged[key] = staged = [];
                }

                staged.Add(item);
                return;
            }

            var list = _map.TryGetValue(key, out var found) ? found : ImmutableList<T>.Empty;
            var at = list.BinarySearch(item, _items);
            if (at < 0)
            {
                _map[key] = list.Insert(~at, item);
            }
        }

        public void Remove(TKey key, T item)
        {
            if (_staged is not null)
            {
                throw new InvalidOperationException("a bulk builder only adds");
            }

            if (_map.TryGetValue(key, out var list))
            {
                var at = list.BinarySearch(item, _items);
                if (at < 0)
                {
                    return;
                }

                if (list.Count == 1)
                {
                    _map.Remove(key);
                }
                else
                {
                    _map[key] = list.RemoveAt(at);
                }
            }
        }

        public SortedMultiMap<TKey, T> ToImmutable()
        {
            if (_staged is not null)
            {
                foreach (var (key, staged) in _staged)
                {
                    if (_map.TryGetValue(key, out var existing))
                    {
                        staged.AddRange(existing);
                    }

                    _map[key] = ImmutableList.CreateRange(SortDistinct(staged, _items));
                }

                _staged = null;
            }

            return new SortedMultiMap<TKey, T>(_map.ToImmutable(), _items);
        }
    }

    /// <summary>Sorts <paramref name="list"/> in place and drops items equal to their predecessor.</summary>
    internal static List<T> SortDistinct(List<T> list, IComparer<T> comparer)
    {
        if (list.Count < 2)
        {
            return list;
        }

        list.Sort(comparer);
        var kept = 1;
        for (var i = 1; i < list.Count; i++)
        {
            if (comparer.Compare(list[kept - 1], list[i]) != 0)
            {
                list[kept++] = list[i];
            }
        }

        list.RemoveRange(kept, list.Count - kept);
        return list;
    }
}

/// <summary>Orders objects by kind, namespace and name (ordinal): the one order of every list the snapshot keeps.</summary>
internal sealed class ObjectKeyOrder : IComparer<EgressObject>
{
    public static ObjectKeyOrder Instance { get; } = new();

    public int Compare(EgressObject? x, EgressObject? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        return Compare(x.Key, y.Key);
    }

    public static int Compare(in ObjectKey a, in ObjectKey b)
    {
        var c = ((int)a.Kind).CompareTo((int)b.Kind); // as ints: Enum.CompareTo(object) boxes, and this runs n log n times per bulk build
        if (c != 0)
        {
            return c;
        }

        c = string.CompareOrdinal(a.Namespace, b.Namespace);
        return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
    }
}

/// <summary>Orders host matches by item, then host (ordinal).</summary>
internal sealed class HostMatchOrder<T>(IComparer<T> items) : IComparer<HostMatch<T>>
{
    public int Compare(HostMatch<T> x, HostMatch<T> y)
    {
        var c = items.Compare(x.Item, y.Item);
        return c != 0 ? c : string.CompareOrdinal(x.Host, y.Host);
    }
}
