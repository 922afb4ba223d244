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
    // the same buckets as HostIndex, but for plain (and overlong) hosts, which are their own bucket here (the hosts are
    // distinct): the set itself answers them. "*.foo.com" under ".foo.com" ("*" under ""), "*foo.com" under "foo.com",
    // and (built on the first wildcard query) every host under each of its dot-suffixes; a bucket is sorted when first read
    private readonly Dictionary<string, Bucket> _wildcards = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Bucket> _partial = new(StringComparer.Ordinal);
    private Dictionary<string, Bucket>? _bySuffix;
    private readonly int[] _partialLengths;
    private readonly HashSet<string> _hosts;

    // every host but the overlong ones, sorted; built on the first query that reads every host ("*", a partial
    // wildcard, a wildcard's suffixes)
    private List<string>? _all;

    // every host reversed, sorted (partial-wildcard queries, rare); built on the first such query
    private (string Reversed, string Host)[]? _reversed;

    /// <summary>Indexes <paramref name="hosts"/> (duplicates are taken once).</summary>
    public HostSet(IEnumerable<string> hosts)
        : this(new HashSet<string>(hosts, StringComparer.Ordinal))
    {
    }

    /// <summary>Indexes <paramref name="hosts"/>, which it keeps: the caller must not change the set afterwards.</summary>
    public HostSet(HashSet<string> hosts)
    {
        _hosts = hosts;
        SortedSet<int>? partialLengths = null;
        foreach (var host in _hosts)
        {
            // only wildcards are bucketed: a plain host is looked up in the set; as in HostIndex, an overlong host
            // (wildcard or not) matches only itself
            if (host.Length == 0 || host[0] != '*' || HostName.IsOverlong(host))
            {
                continue;
            }

            if (IsPartialWildcard(host))
            {
                Put(_partial, host.AsSpan(1), host);
                (partialLengths ??= []).Add(host.Length - 1);
            }
            else
            {
                Put(_wildcards, host.AsSpan(1), host);
            }
        }

        _partialLengths = partialLengths is null ? [] : [.. partialLengths];
    }

    /// <summary>The hosts, as a set.</summary>
    public IReadOnlySet<string> Hosts => _hosts;

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
            AddSelf(query, into);
            return;
        }

        if (IsPartialWildcard(query))
        {
            QueryPartial(query, into);
            return;
        }

        if (query == "*")
        {
            into.AddRange(All());
            return;
        }

        if (HostName.IsWildcard(query))
        {
            var suffix = query.AsSpan(1);
            AddFrom(BySuffix(), suffix, into);
            AddWildcardsCovering(suffix, into);
            AddPartialsCovering(suffix, into, proper: false);
            return;
        }

        AddSelf(query, into);
        AddWildcardsCovering(query, into);
        AddPartialsCovering(query, into, proper: true);
    }

    /// <summary>The exact bucket of a plain or overlong <paramref name="query"/>: the host itself, when the set has it.</summary>
    private void AddSelf(string query, List<string> into)
    {
        if (_hosts.Contains(query))
        {
            into.Add(query);
        }
    }

    private static bool IsPartialWildcard(string host) => host.Length > 1 && host[0] == '*' && host[1] != '.';

    private static void Put(Dictionary<string, Bucket> map, ReadOnlySpan<char> key, string host)
    {
        var lookup = map.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(key, out var bucket))
        {
            lookup[key] = bucket = new Bucket();
        }

        bucket.Add(host);
    }

    private static void AddFrom(Dictionary<string, Bucket> map, ReadOnlySpan<char> key, List<string> into)
    {
        if (map.Count > 0 && map.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var bucket))
        {
            bucket.CopySortedTo(into);
        }
    }

    /// <summary>Every host under each of its dot-suffixes (a wildcard's own domain is found through its bucket, so its
    /// suffixes start after it), built on the first wildcard query.</summary>
    private Dictionary<string, Bucket> BySuffix()
    {
        if (_bySuffix is { } built)
        {
            return built;
        }

        // each bucket is sorted when read: no need to sort every host first
        var map = new Dictionary<string, Bucket>(StringComparer.Ordinal);
        foreach (var host in _hosts)
        {
            if (HostName.IsOverlong(host))
            {
                continue;
            }

            var start = HostName.IsWildcard(host) ? 2 : 1;
            for (var i = host.IndexOf('.', Math.Min(start, host.Length)); i > 0; i = host.IndexOf('.', i + 1))
            {
                Put(map, host.AsSpan(i), host);
            }
        }

        return _bySuffix = map;
    }

    private List<string> All()
    {
        if (_all is null)
        {
            _all = new List<string>(_hosts.Count);
            foreach (var host in _hosts)
            {
                if (!HostName.IsOverlong(host))
                {
                    _all.Add(host);
                }
            }

            _all.Sort(StringComparer.Ordinal);
        }

        return _all;
    }

    /// <summary>The hosts of one key, sorted (ordinal) when first read: most buckets hold one host and are never read.</summary>
    private sealed class Bucket
    {
        private readonly List<string> _hosts = new(1);
        private bool _sorted = true;

        public void Add(string host)
        {
            _sorted = _hosts.Count == 0;
            _hosts.Add(host);
        }

        public void CopySortedTo(List<string> into)
        {
            if (!_sorted)
            {
                _hosts.Sort(StringComparer.Ordinal);
                _sorted = true;
            }

            into.AddRange(_hosts);
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
        var reversed = _reversed ??= [.. All().Select(h => (Reverse(h), h)).OrderBy(p => p.Item1, StringComparer.Ordinal)];
        var key = Reverse(suffix);
        for (var i = LowerBound.Of(reversed, key, static (p, k) => string.CompareOrdinal(p.Reversed, k) < 0); i < reversed.Length && reversed[i].Reversed.StartsWith(key, StringComparison.Ordinal); i++)
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

    internal ExactServiceEntries(Dictionary<string, List<ServiceEntry>> stored, ServiceEntry? added, HashSet<string>? addedHosts, IReadOnlyList<(string Host, int Index)> declared)
    {
        _stored = stored;
        _added = added;
        _addedHosts = addedHosts;
        Declared = declared;
    }

    /// <summary>The subject's distinct hosts (resolved) that some entry declares, each with the index of its first
    /// <c>spec.hosts</c> entry, in that order. Only hosts with at least one declaring entry are taken in, so
    /// <see cref="Declaring"/> is not empty for them; the rules still check, in case that changes.</summary>
    public IReadOnlyList<(string Host, int Index)> Declared { get; }

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
