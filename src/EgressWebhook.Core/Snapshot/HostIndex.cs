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

    // "*foo.com" (a wildcard label, not "*."): matches by plain suffix, so no dot-suffix key finds it; rare, so a list
    // that every query checks
    private readonly List<HostMatch<T>> _partial = [];

    private static bool IsPartialWildcard(string host) => host.Length > 1 && host[0] == '*' && host[1] != '.';

    public void Add(string host, T item)
    {
        var match = new HostMatch<T>(item, host);
        if (IsPartialWildcard(host))
        {
            _partial.Add(match);
            return;
        }

        if (HostName.IsWildcard(host))
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
    /// An item with several matching hosts appears once per host.</summary>
    public void Query(string query, List<HostMatch<T>> into)
    {
        if (IsPartialWildcard(query))
        {
            // "*foo.com" has no dot-suffix to look up: compare with everything (a rare query)
            foreach (var list in _exact.Values.Concat(_wildcards.Values).Append(_partial))
            {
                into.AddRange(list.Where(m => HostName.Matches(m.Host, query)));
            }

            return;
        }

        foreach (var m in _partial)
        {
            if (HostName.Matches(m.Host, query))
            {
                into.Add(m);
            }
        }

        if (query == "*")
        {
            foreach (var list in _exact.Values)
            {
                into.AddRange(list);
            }

            foreach (var list in _wildcards.Values)
            {
                into.AddRange(list);
            }

            return;
        }

        if (HostName.IsWildcard(query))
        {
            // indexed hosts inside the query's domain, wildcards included
            AddFrom(_bySuffix, query[1..], into);

            // indexed wildcards whose domain contains the query's (same suffix included)
            var suffix = query[1..];
            AddWildcardsCovering(suffix, into);
            return;
        }

        AddFrom(_exact, query, into);
        AddWildcardsCovering(query, into);
    }

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
