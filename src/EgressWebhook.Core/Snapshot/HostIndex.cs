using EgressWebhook.Core.Istio;

namespace EgressWebhook.Core.Snapshot;

/// <summary>An item indexed under one of its hosts.</summary>
public readonly record struct HostMatch<T>(T Item, string Host);

/// <summary>Finds the items whose host <see cref="HostName.Matches"/> a query host, in time proportional to
/// the number of labels in the query and the matches, not to the number of items.</summary>
internal sealed class HostIndex<T>
    where T : class
{
    private readonly Dictionary<string, List<HostMatch<T>>> _exact = new(StringComparer.Ordinal);

    // "*.foo.com" is stored under ".foo.com"; "*" under "".
    private readonly Dictionary<string, List<HostMatch<T>>> _wildcards = new(StringComparer.Ordinal);

    // every indexed host under each of its dot-suffixes: "a.foo.com" under ".foo.com" and ".com"
    private readonly Dictionary<string, List<HostMatch<T>>> _bySuffix = new(StringComparer.Ordinal);

    // "*foo.com" (a wildcard label, not "*."): matches by plain suffix, which no dot-suffix key finds. Stored by the
    // length of that suffix, then the suffix: a query probes each length present with its own suffix of that length.
    private readonly SortedDictionary<int, Dictionary<string, List<HostMatch<T>>>> _partialByLength = [];

    // every host reversed, sorted: the hosts ending in a given text form one range (for partial-wildcard queries,
    // rare); built on the first such query
    private (string Reversed, HostMatch<T> Match)[]? _reversed;
    private readonly List<HostMatch<T>> _all = [];

    private static bool IsPartialWildcard(string host) => host.Length > 1 && host[0] == '*' && host[1] != '.';

    public void Add(string host, T item)
    {
        var match = new HostMatch<T>(item, host);

        // a host longer than a DNS name (EGW209) matches only itself: split into suffixes, a few such hosts of
        // megabytes would cost the square of their length
        if (HostName.IsOverlong(host))
        {
            Append(_exact, host, match);
            return;
        }

        _all.Add(match);
        if (IsPartialWildcard(host))
        {
            if (!_partialByLength.TryGetValue(host.Length - 1, out var bySuffix))
            {
                _partialByLength[host.Length - 1] = bySuffix = new Dictionary<string, List<HostMatch<T>>>(StringComparer.Ordinal);
            }

            Append(bySuffix, host[1..], match);
        }
        else if (HostName.IsWildcard(host))
        {
            Append(_wildcards, host[1..], match);
        }
        else
        {
            Append(_exact, host, match);
        }

        // a wildcard's own domain is found through _wildcards, so its suffixes start after it
        var start = HostName.IsWildcard(host) ? 2 : 1;
        for (var i = host.IndexOf('.', Math.Min(start, host.Length)); i > 0; i = host.IndexOf('.', i + 1))
        {
            Append(_bySuffix, host[i..], match);
        }
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
            into.AddRange(_all);
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
        foreach (var (length, bySuffix) in _partialByLength)
        {
            if (length > name.Length || (proper && length == name.Length))
            {
                break;
            }

            if (bySuffix.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name.AsSpan(name.Length - length), out var list))
            {
                into.AddRange(list);
            }
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
        int lo = 0, hi = reversed.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(reversed[mid].Reversed, key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        for (var i = lo; i < reversed.Length && reversed[i].Reversed.StartsWith(key, StringComparison.Ordinal); i++)
        {
            candidates.Add(reversed[i].Match);
        }

        // shorter wildcards: "*.s" and "*s" with s a suffix of the query's, and "*"
        var lookup = _wildcards.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var i = 0; i < suffix.Length; i++)
        {
            if (lookup.TryGetValue(suffix.AsSpan(i), out var list))
            {
                candidates.AddRange(list);
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
        // most indexes hold no wildcard at all; the others are probed per suffix without allocating it
        if (_wildcards.Count == 0)
        {
            return;
        }

        var lookup = _wildcards.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var i = name.IndexOf('.', 0); i >= 0; i = name.IndexOf('.', i + 1))
        {
            if (lookup.TryGetValue(name.AsSpan(i), out var list))
            {
                into.AddRange(list);
            }
        }

        AddFrom(_wildcards, "", into);
    }

    private static void AddFrom(Dictionary<string, List<HostMatch<T>>> map, string key, List<HostMatch<T>> into)
    {
        if (map.TryGetValue(key, out var list))
        {
            into.AddRange(list);
        }
    }

    private static void Append(Dictionary<string, List<HostMatch<T>>> map, string key, HostMatch<T> match)
    {
        if (!map.TryGetValue(key, out var list))
        {
            list = [];
            map[key] = list;
        }

        list.Add(match);
    }
}
