using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>The distinct hosts of one object, indexed like <see cref="HostIndex{T}"/> but in plain hash tables built
/// once: the index of the object under admission, which may list 150,000 hosts and lives for one request.</summary>
/// <remarks><see cref="Query"/> finds what <see cref="HostIndex{T}.Query"/> finds for an index holding these hosts under
/// one item, in the same order (each bucket sorted by host, ordinal), in time proportional to the query's labels and
/// the matches. A persistent <see cref="HostIndex{T}"/> of the same hosts costs several times more to build: its
/// immutable trees allocate a node per entry and are meant to be shared by later snapshots, which this one never is.</remarks>
internal sealed class HostSet
{
    // the same buckets as HostIndex: plain (and overlong) hosts by host, "*.foo.com" under ".foo.com" ("*" under ""),
    // "*foo.com" under "foo.com", every host under each of its dot-suffixes
    private readonly Dictionary<string, List<string>> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _wildcards = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _partial = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _bySuffix = new(StringComparer.Ordinal);
    private readonly int[] _partialLengths;
    private readonly HashSet<string> _hosts;
    private readonly string[] _all;

    // every host reversed, sorted (partial-wildcard queries, rare); built on the first such query
    private (string Reversed, string Host)[]? _reversed;

    /// <summary>Indexes <paramref name="hosts"/> (duplicates are taken once).</summary>
    public HostSet(IEnumerable<string> hosts)
    {
        _hosts = new HashSet<string>(hosts, StringComparer.Ordinal);
        var all = new List<string>(_hosts.Count);
        var partialLengths = new SortedSet<int>();
        foreach (var host in _hosts)
        {
            // as in HostIndex: an overlong host matches only itself
            if (HostName.IsOverlong(host))
            {
                Put(_exact, host, host);
                continue;
            }

            all.Add(host);
            if (IsPartialWildcard(host))
            {
                Put(_partial, host[1..], host);
                partialLengths.Add(host.Length - 1);
            }
            else if (HostName.IsWildcard(host))
            {
                Put(_wildcards, host[1..], host);
            }
            else
            {
                Put(_exact, host, host);
            }

            var start = HostName.IsWildcard(host) ? 2 : 1;
            for (var i = host.IndexOf('.', Math.Min(start, host.Length)); i > 0; i = host.IndexOf('.', i + 1))
            {
                Put(_bySuffix, host[i..], host);
            }
        }

        foreach (var map in (ReadOnlySpan<Dictionary<string, List<string>>>)[_exact, _wildcards, _partial, _bySuffix])
        {
            foreach (var list in map.Values)
            {
                if (list.Count > 1)
                {
                    list.Sort(StringComparer.Ordinal);
                }
            }
        }

        all.Sort(StringComparer.Ordinal);
        _all = [.. all];
        _partialLengths = [.. partialLengths];
    }

    /// <summary>Number of distinct hosts.</summary>
    public int Count => _hosts.Count;

    /// <summary>Whether <paramref name="host"/> is one of the hosts, as written.</summary>
    public bool Contains(string host) => _hosts.Contains(host);

    /// <summary>Whether some host <see cref="HostName.Matches"/> <paramref name="query"/> (as <see cref="Query"/> finds them).</summary>
    public bool Any(string query)
    {
        var found = new List<string>();
        Query(query, found);
        return found.Count > 0;
    }

    /// <summary>The hosts that match <paramref name="query"/>, in the order <see cref="HostIndex{T}.Query"/> gives them.</summary>
    public void Query(string query, List<string> into)
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
            var suffix = query.AsSpan(1);
            AddFrom(_bySuffix, suffix, into);
            AddWildcardsCovering(suffix, into);
            AddPartialsCovering(suffix, into, proper: false);
            return;
        }

        AddFrom(_exact, query, into);
        AddWildcardsCovering(query, into);
        AddPartialsCovering(query, into, proper: true);
    }

    private static bool IsPartialWildcard(string host) => host.Length > 1 && host[0] == '*' && host[1] != '.';

    private static void Put(Dictionary<string, List<string>> map, string key, string host)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(host);
    }

    private static void AddFrom(Dictionary<string, List<string>> map, ReadOnlySpan<char> key, List<string> into)
    {
        if (map.Count > 0 && map.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var list))
        {
            into.AddRange(list);
        }
    }

    /// <summary>Wildcards <c>*.s</c> where <c>s</c> is a dot-suffix of <paramref name="name"/>, and <c>*</c>.</summary>
    private void AddWildcardsCovering(ReadOnlySpan<char> name, List<string> into)
    {
        if (_wildcards.Count == 0)
        {
            return;
        }

        for (var i = name.IndexOf('.'); i >= 0; i = NextDot(name, i))
        {
            AddFrom(_wildcards, name[i..], into);
        }

        AddFrom(_wildcards, "", into);
    }

    private static int NextDot(ReadOnlySpan<char> name, int i)
    {
        var next = name[(i + 1)..].IndexOf('.');
        return next < 0 ? -1 : i + 1 + next;
    }

    /// <summary>Partial wildcards <c>*s</c> where <c>s</c> is a suffix of <paramref name="name"/> (a proper one when
    /// <paramref name="name"/> is a plain host).</summary>
    private void AddPartialsCovering(ReadOnlySpan<char> name, List<string> into, bool proper)
    {
        foreach (var length in _partialLengths)
        {
            if (length > name.Length || (proper && length == name.Length))
            {
                break;
            }

            AddFrom(_partial, name[(name.Length - length)..], into);
        }
    }

    /// <summary>A partial-wildcard query <c>*s</c>, as <see cref="HostIndex{T}"/> answers it.</summary>
    private void QueryPartial(string query, List<string> into)
    {
        var suffix = query[1..];
        var candidates = new List<string>();
        var reversed = _reversed ??= [.. _all.Select(h => (Reverse(h), h)).OrderBy(p => p.Item1, StringComparer.Ordinal)];
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
            candidates.Add(reversed[i].Host);
        }

        if (_wildcards.Count > 0)
        {
            for (var i = 0; i < suffix.Length; i++)
            {
                AddFrom(_wildcards, suffix.AsSpan(i), candidates);
            }

            AddFrom(_wildcards, "", candidates);
        }

        AddPartialsCovering(suffix, candidates, proper: false);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in candidates)
        {
            if (HostName.Matches(h, query) && seen.Add(h))
            {
                into.Add(h);
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
}

/// <summary>The ServiceEntries that declare each host of one subject entry exactly (<see cref="SnapshotView.ServiceEntriesDeclaringHostsOf"/>).</summary>
public sealed class ExactServiceEntries
{
    private static readonly ServiceEntry[] None = [];
    private readonly Dictionary<string, List<ServiceEntry>> _stored;
    private readonly ServiceEntry? _added;
    private readonly HashSet<string>? _addedHosts;

    internal ExactServiceEntries(Dictionary<string, List<ServiceEntry>> stored, ServiceEntry? added, HashSet<string>? addedHosts)
    {
        _stored = stored;
        _added = added;
        _addedHosts = addedHosts;
    }

    /// <summary>The entries declaring <paramref name="host"/> (one of the subject's), in index order (kind, namespace,
    /// name), the view's added entry last; the subject is not among them.</summary>
    public IReadOnlyList<ServiceEntry> Declaring(string host)
    {
        var stored = _stored.TryGetValue(host, out var list) ? list : null;
        if (_added is null || !_addedHosts!.Contains(host))
        {
            return stored ?? (IReadOnlyList<ServiceEntry>)None;
        }

        return stored is null ? [_added] : [.. stored, _added];
    }

    /// <summary>Every entry declaring one of the subject's hosts, each once.</summary>
    public IEnumerable<ServiceEntry> All
    {
        get
        {
            var seen = new HashSet<ObjectKey>();
            foreach (var list in _stored.Values)
            {
                foreach (var se in list)
                {
                    if (seen.Add(se.Key))
                    {
                        yield return se;
                    }
                }
            }

            if (_added is not null && seen.Add(_added.Key))
            {
                yield return _added;
            }
        }
    }
}
