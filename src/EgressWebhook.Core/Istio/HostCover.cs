namespace EgressWebhook.Core.Istio;

/// <summary>A set of hosts that answers "is this host within one of them" (<see cref="HostName.SubsetOf"/>) in time
/// proportional to the host's length, not to the number of hosts: checking each of n hosts against m others one by
/// one costs n × m, and one object may list many thousands of both.</summary>
internal sealed class HostCover
{
    private readonly HashSet<string> _hosts = new(StringComparer.Ordinal);

    // "*.foo.com" and "*foo.com" under ".foo.com" and "foo.com"; made for the first wildcard (most lists have none)
    private readonly HashSet<string>? _wildcardSuffixes;
    private readonly bool _any;

    public HostCover(IEnumerable<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        foreach (var h in hosts)
        {
            _hosts.Add(h);
            if (HostName.IsOverlong(h))
            {
                // matches only itself (see HostName.IsOverlong)
                continue;
            }

            if (h == "*")
            {
                _any = true;
            }
            else if (HostName.IsWildcard(h))
            {
                _wildcardSuffixes ??= new HashSet<string>(StringComparer.Ordinal);
                _wildcardSuffixes.Add(h[1..]);
            }
        }
    }

    /// <summary>Whether <paramref name="host"/> is <see cref="HostName.SubsetOf"/> one of the hosts.</summary>
    public bool Covers(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (_hosts.Contains(host))
        {
            return true;
        }

        if (HostName.IsOverlong(host))
        {
            return false;
        }

        if (_any)
        {
            return true;
        }

        if (_wildcardSuffixes is null || host == "*")
        {
            return false;
        }

        // "*s" covers a host that ends in s and is longer than s
        var lookup = _wildcardSuffixes.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var i = 1; i < host.Length; i++)
        {
            if (lookup.Contains(host.AsSpan(i)))
            {
                return true;
            }
        }

        return false;
    }
}
