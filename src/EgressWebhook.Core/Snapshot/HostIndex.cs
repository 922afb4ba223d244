using System.Collections.Immutable;
using EgressWebhook.Core.Istio;

namespace EgressWebhook.Core.Snapshot;

/// <summary>An item indexed under one of its hosts.</summary>
public readonly record struct HostMatch<T>(T Item, string Host);

/// <summary>Finds the items whose host <see cref="HostName.Matches"/> a query host, in time proportional to
/// the number of labels in the query and the matches, not to the number of items.</summary>
/// <remarks>Persistent: <see cref="ToBuilder"/> adds and removes entries and returns a new index that shares every
/// untouched bucket with this one, so a change costs the buckets of its hosts, not the size of the index. Each bucket
/// is sorted by item, then host, so the order of results does not depend on the order of changes.</remarks>
internal sealed class HostIndex<T>
    where T : class
{
    private readonly SortedMultiMap<string, HostMatch<T>> _exact;

    // "*.foo.com" is stored under ".foo.com"; "*" under "".
    private readonly SortedMultiMap<string, HostMatch<T>> _wildcards;

    // every indexed host under each of its dot-suffixes: "a.foo.com" under ".foo.com" and ".com"
    private readonly SortedMultiMap<string, HostMatch<T>> _bySuffix;

    // "*foo.com" (a wildcard label, not "*."): matches by plain suffix, which no dot-suffix key finds. Stored by that
    // suffix, with the number of entries per suffix length: a query probes each length present with its own suffix of
    // that length.
    private readonly SortedMultiMap<string, HostMatch<T>> _partial;
    private readonly ImmutableSortedDictionary<int, int> _partialLengths;

    // the lengths of the wildcards' suffixes (with their number of entries): a query probes only those
    private readonly ImmutableSortedDictionary<int, int> _wildcardLengths;

    // every host reversed, sorted: the hosts ending in a given text form one range (for partial-wildcard queries,
    // rare); built on the first such query
    private (string Reversed, HostMatch<T> Match)[]? _reversed;
    private readonly ImmutableList<HostMatch<T>> _all;
    private readonly IComparer<HostMatch<T>> _order;

    private HostIndex(SortedMultiMap<string, HostMatch<T>> exact, SortedMultiMap<string, HostMatch<T>> wildcards,
        SortedMultiMap<string, HostMatch<T>> bySuffix, SortedMultiMap<string, HostMatch<T>> partial,
        ImmutableSortedDictionary<int, int> partialLengths, ImmutableSortedDictionary<int, int> wildcardLengths, ImmutableList<HostMatch<T>> all, IComparer<HostMatch<T>> order)
    {
        _order = order;
        _wildcardLengths = wildcardLengths;
        _exact = exact;
        _wildcards = wildcards;
        _bySuffix = bySuffix;
        _partial = partial;
        _partialLengths = partialLengths;
        _all = all;
    }

    /// <summary>An empty index whose buckets order items by <paramref name="items"/>.</summary>
    public static HostIndex<T> Create(IComparer<T> items)
    {
        var order = new HostMatchOrder<T>(items);
        var map = SortedMultiMap<string, HostMatch<T>>.Create(StringComparer.Ordinal, order);
        return new HostIndex<T>(map, map, map, map, ImmutableSortedDictionary<int, int>.Empty, ImmutableSortedDictionary<int, int>.Empty,
            ImmutableList<HostMatch<T>>.Empty, order);
    }

    /// <summary>Whether the index holds no entry.</summary>
    public bool IsEmpty => _all.IsEmpty && _exact.Count == 0;

    public Builder ToBuilder(bool bulk = false) => new(this, bulk);

    private static bool IsPartialWildcard(string host) => host.Length > 1 && host[0] == '*' && host[1] != '.';

    /// <summary>Adds and removes entries; <see cref="ToImmutable"/> gives the new index.</summary>
    internal sealed class Builder
    {
        private readonly SortedMultiMap<string, HostMatch<T>>.Builder _exact;
        private readonly SortedMultiMap<string, HostMatch<T>>.Builder _wildcards;
        private readonly SortedMultiMap<string, HostMatch<T>>.Builder _bySuffix;
        private readonly SortedMultiMap<string, HostMatch<T>>.Builder _partial;
        private readonly ImmutableSortedDictionary<int, int>.Builder _partialLengths;
        private readonly ImmutableSortedDictionary<int, int>.Builder _wildcardLengths;
        private readonly ImmutableList<HostMatch<T>> _allFrom;
        private readonly ImmutableList<HostMatch<T>>.Builder? _all;
        private readonly List<HostMatch<T>>? _allStaged;
        private readonly IComparer<HostMatch<T>> _order;

        public Builder(HostIndex<T> from, bool bulk)
        {
            _exact = from._exact.ToBuilder(bulk);
            _wildcards = from._wildcards.ToBuilder(bulk);
            _bySuffix = from._bySuffix.ToBuilder(bulk);
            _partial = from._partial.ToBuilder(bulk);
            _partialLengths = from._partialLengths.ToBuilder();
            _wildcardLengths = from._wildcardLengths.ToBuilder();
            _allFrom = from._all;
            _order = from._order;
            if (bulk)
            {
                _allStaged = [];
            }
            else
            {
                _all = from._all.ToBuilder();
            }
        }

        public void Add(string host, T item) => Change(host, item, add: true);

        public void Remove(string host, T item) => Change(host, item, add: false);

        private void Change(string host, T item, bool add)
        {
            var match = new HostMatch<T>(item, host);

            // a host longer than a DNS name (EGW209) matches only itself: split into suffixes, a few such hosts of
            // megabytes would cost the square of their length
            if (HostName.IsOverlong(host))
            {
                Put(_exact, host, match, add);
                return;
            }

            if (_allStaged is not null)
            {
                _allStaged.Add(match);
            }
            else
            {
                var at = _all!.BinarySearch(match, _order);
                if (add && at < 0)
                {
                    _all.Insert(~at, match);
                }
                else if (!add && at >= 0)
                {
                    _all.RemoveAt(at);
                }
            }

            if (IsPartialWildcard(host))
            {
                Put(_partial, host[1..], match, add);
                Count(_partialLengths, host.Length - 1, add);
            }
            else if (HostName.IsWildcard(host))
            {
                Put(_wildcards, host[1..], match, add);
                Count(_wildcardLengths, host.Length - 1, add);
            }
            else
            {
                Put(_exact, host, match, add);
            }

            // a wildcard's own domain is found through _wildcards, so its suffixes start after it
            var start = HostName.IsWildcard(host) ? 2 : 1;
            for (var i = host.IndexOf('.', Math.Min(start, host.Length)); i > 0; i = host.IndexOf('.', i + 1))
            {
                Put(_bySuffix, host[i..], match, add);
            }
        }

        private static void Count(ImmutableSortedDictionary<int, int>.Builder lengths, int length, bool add)
        {
            var count = lengths.GetValueOrDefault(length) + (add ? 1 : -1);
            if (count > 0)
            {
                lengths[length] = count;
            }
            else
            {
                lengths.Remove(length);
            }
        }

        private static void Put(SortedMultiMap<string, HostMatch<T>>.Builder map, string key, HostMatch<T> match, bool add)
        {
            if (add)
            {
                map.Add(key, match);
            }
            else
            {
                map.Remove(key, match);
            }
        }

        public HostIndex<T> ToImmutable() => new(_exact.ToImmutable(), _wildcards.ToImmutable(), _bySuffix.ToImmutable(),
            _partial.ToImmutable(), _partialLengths.ToImmutable(), _wildcardLengths.ToImmutable(), _allStaged is not null ? AllFromStaged() : _all!.ToImmutable(), _order);

        private ImmutableList<HostMatch<T>> AllFromStaged()
        {
            _allStaged!.AddRange(_allFrom);
            return ImmutableList.CreateRange(SortedMultiMap<string, HostMatch<T>>.SortDistinct(_allStaged, _order));
        }
    }

    /// <summary>Number of entries (item and host) that match by <see cref="HostName.Matches"/>, overlong hosts not counted.</summary>
    public int Count => _all.Count;

    /// <summary>Every entry, overlong hosts included (each matches only itself).</summary>
    public IEnumerable<HostMatch<T>> Entries
    {
        get
        {
            foreach (var m in _all)
            {
                yield return m;
            }

            foreach (var (host, bucket) in _exact.Pairs)
            {
                if (HostName.IsOverlong(host))
                {
                    foreach (var m in bucket)
                    {
                        yield return m;
                    }
                }
            }
        }
    }

    /// <summary>Number of distinct hosts, wildcards included: what <see cref="Exact"/> looks up among.</summary>
    public int HostCount => _exact.Count + _wildcards.Count + _partial.Count;

    /// <summary>Every distinct host with its entries, in bucket order.</summary>
    public IEnumerable<ImmutableList<HostMatch<T>>> ExactBuckets
    {
        get
        {
            foreach (var map in (SortedMultiMap<string, HostMatch<T>>[])[_exact, _wildcards, _partial])
            {
                foreach (var (_, bucket) in map.Pairs)
                {
                    yield return bucket;
                }
            }
        }
    }

    /// <summary>The entries whose host is <paramref name="host"/> as written (no wildcard matching), sorted by item.</summary>
    public ImmutableList<HostMatch<T>> Exact(string host)
    {
        var map = HostName.IsOverlong(host) ? _exact : IsPartialWildcard(host) ? _partial : HostName.IsWildcard(host) ? _wildcards : _exact;
        var key = ReferenceEquals(map, _exact) ? host : host[1..];
        return map.TryGetValue(key, out var bucket) ? bucket : ImmutableList<HostMatch<T>>.Empty;
    }

    /// <summary>Items with a host that matches <paramref name="query"/> (either side may be a wildcard).
    /// An item with several matching hosts appears once per host. A host longer than a DNS name
    /// (<see cref="HostName.IsOverlong"/>) matches only itself, on either side.</summary>
    public void Query(string query, List<HostMatch<T>> into)
    {
        if (HostName.IsOverlong(query))
        {
            AddFrom(_exact, query, into);
            return;
        }

        if (IsPartialWildcard(query))
        {
            QueryPartial(query, into);
            return;
        }

        if (query == "*")
        {
            foreach (var m in _all)
            {
                into.Add(m);
            }

            return;
        }

        if (HostName.IsWildcard(query))
        {
            // indexed hosts inside the query's domain, wildcards included (partial ones too)
            AddFrom(_bySuffix, query[1..], into);

            // indexed wildcards whose domain contains the query's (same suffix included)
            var suffix = query[1..];
            AddWildcardsCovering(suffix, into);
            AddPartialsCovering(suffix, into, proper: false);
            return;
        }

        AddFrom(_exact, query, into);
        AddWildcardsCovering(query, into);
        AddPartialsCovering(query, into, proper: true);
    }

    /// <summary>Partial wildcards <c>*s</c> where <c>s</c> is a suffix of <paramref name="name"/> (a proper one when
    /// <paramref name="name"/> is a plain host: <c>*foo.com</c> does not match <c>foo.com</c>).</summary>
    private void AddPartialsCovering(string name, List<HostMatch<T>> into, bool proper)
    {
        if (_partialLengths.IsEmpty)
        {
            return;
        }

        foreach (var (length, _) in _partialLengths)
        {
            if (length > name.Length || (proper && length == name.Length))
            {
                break;
            }

            AddFrom(_partial, name[(name.Length - length)..], into);
        }
    }

    /// <summary>A partial-wildcard query <c>*s</c>: hosts ending in <c>s</c> (one range of the reversed hosts) and
    /// wildcards whose suffix is a suffix of <c>s</c>, each checked with <see cref="HostName.Matches"/>.</summary>
    private void QueryPartial(string query, List<HostMatch<T>> into)
    {
        var suffix = query[1..];
        var candidates = new List<HostMatch<T>>();
        var reversed = LazyInitializer.EnsureInitialized(ref _reversed, () =>
            [.. _all.Select(m => (Reverse(m.Host), m)).OrderBy(p => p.Item1, StringComparer.Ordinal)]);
        var key = Reverse(suffix);
        for (var i = LowerBound.Of(reversed, key, static (p, k) => string.CompareOrdinal(p.Reversed, k) < 0); i < reversed.Length && reversed[i].Reversed.StartsWith(key, StringComparison.Ordinal); i++)
        {
            candidates.Add(reversed[i].Match);
        }

        // shorter wildcards: "*.s" and "*s" with s a suffix of the query's, and "*"
        for (var i = 0; i < suffix.Length; i++)
        {
            if (_wildcardLengths.ContainsKey(suffix.Length - i))
            {
                AddFrom(_wildcards, suffix[i..], candidates);
            }
        }

        AddFrom(_wildcards, "", candidates);
        AddPartialsCovering(suffix, candidates, proper: false);

        var seen = new HashSet<HostMatch<T>>();
        foreach (var m in candidates)
        {
            if (HostName.Matches(m.Host, query) && seen.Add(m))
            {
                into.Add(m);
            }
        }
    }

    private static string Reverse(string s) => string.Create(s.Length, s, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = source[source.Length - 1 - i];
        }
    });

    /// <summary>Wildcards <c>*.s</c> where <c>s</c> is a dot-suffix of <paramref name="name"/>, and <c>*</c>.</summary>
    private void AddWildcardsCovering(string name, List<HostMatch<T>> into)
    {
        // most indexes hold no wildcard at all; the others are probed only at suffix lengths some wildcard has
        if (_wildcards.Count == 0)
        {
            return;
        }

        for (var i = name.IndexOf('.', 0); i >= 0; i = name.IndexOf('.', i + 1))
        {
            if (_wildcardLengths.ContainsKey(name.Length - i))
            {
                AddFrom(_wildcards, name[i..], into);
            }
        }

        AddFrom(_wildcards, "", into);
    }

    private static void AddFrom(SortedMultiMap<string, HostMatch<T>> map, string key, List<HostMatch<T>> into)
    {
        if (map.TryGetValue(key, out var set))
        {
            foreach (var m in set)
            {
                into.Add(m);
            }
        }
    }
}
