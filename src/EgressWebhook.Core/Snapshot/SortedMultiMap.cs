using System.Collections.Immutable;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>A persistent map from a key to a sorted set of items: a change copies the path to the changed key and
/// set, and shares every other node with the map it came from (System.Collections.Immutable).</summary>
/// <remarks>Sets are sorted by the item comparer, so their order does not depend on the order of changes: a map built
/// in one pass and one reached by any sequence of adds and removes of the same items enumerate alike.</remarks>
internal sealed class SortedMultiMap<TKey, T>
    where TKey : notnull
{
    private readonly ImmutableDictionary<TKey, ImmutableSortedSet<T>> _map;
    private readonly ImmutableSortedSet<T> _empty;

    private SortedMultiMap(ImmutableDictionary<TKey, ImmutableSortedSet<T>> map, ImmutableSortedSet<T> empty)
    {
        _map = map;
        _empty = empty;
    }

    public static SortedMultiMap<TKey, T> Create(IEqualityComparer<TKey> keys, IComparer<T> items) =>
        new(ImmutableDictionary.Create<TKey, ImmutableSortedSet<T>>(keys), ImmutableSortedSet.Create(items));

    /// <summary>Number of keys.</summary>
    public int Count => _map.Count;

    /// <summary>The items under <paramref name="key"/> (empty when none).</summary>
    public ImmutableSortedSet<T> this[TKey key] => _map.TryGetValue(key, out var set) ? set : _empty;

    public bool TryGetValue(TKey key, out ImmutableSortedSet<T> set)
    {
        if (_map.TryGetValue(key, out var found))
        {
            set = found;
            return true;
        }

        set = _empty;
        return false;
    }

    /// <summary>A builder: <paramref name="bulk"/> collects adds in lists and sorts each set once at the end (for a
    /// build from nothing, where it is several times faster); otherwise each add or remove updates the set in place.</summary>
    public Builder ToBuilder(bool bulk = false) => new(this, bulk);

    internal sealed class Builder
    {
        private readonly ImmutableDictionary<TKey, ImmutableSortedSet<T>>.Builder _map;
        private readonly ImmutableSortedSet<T> _empty;
        private Dictionary<TKey, List<T>>? _staged;

        public Builder(SortedMultiMap<TKey, T> from, bool bulk)
        {
            _map = from._map.ToBuilder();
            _empty = from._empty;
            _staged = bulk ? new Dictionary<TKey, List<T>>(from._map.KeyComparer) : null;
        }

        public void Add(TKey key, T item)
        {
            if (_staged is not null)
            {
                if (!_staged.TryGetValue(key, out var list))
                {
                    _staged[key] = list = [];
                }

                list.Add(item);
                return;
            }

            _map[key] = (_map.TryGetValue(key, out var set) ? set : _empty).Add(item);
        }

        public void Remove(TKey key, T item)
        {
            if (_staged is not null)
            {
                throw new InvalidOperationException("a bulk builder only adds");
            }

            if (_map.TryGetValue(key, out var set))
            {
                set = set.Remove(item);
                if (set.IsEmpty)
                {
                    _map.Remove(key);
                }
                else
                {
                    _map[key] = set;
                }
            }
        }

        public SortedMultiMap<TKey, T> ToImmutable()
        {
            if (_staged is not null)
            {
                foreach (var (key, list) in _staged)
                {
                    var existing = _map.TryGetValue(key, out var set) ? set : _empty;
                    _map[key] = list.Count == 1 ? existing.Add(list[0]) : existing.Union(list);
                }

                _staged = null;
            }

            return new SortedMultiMap<TKey, T>(_map.ToImmutable(), _empty);
        }
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
        var c = a.Kind.CompareTo(b.Kind);
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
