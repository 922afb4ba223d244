namespace EgressWebhook.Core.Istio;

/// <summary>Istio host-name semantics (<c>host.Name</c>): short-name resolution and wildcard matching.</summary>
public static class HostName
{
    public const string ClusterDomain = "svc.cluster.local";

    /// <summary>A name without a dot in namespace <paramref name="ns"/> means <c>name.ns.svc.cluster.local</c>;
    /// a name with a dot is taken as written; <c>*</c> stays <c>*</c> (Istio's ResolveShortnameToFQDN).</summary>
    public static string Resolve(string host, string ns)
    {
        if (host.Length == 0 || host == "*" || host.Contains('.', StringComparison.Ordinal))
        {
            return host;
        }

        return $"{host}.{ns}.{ClusterDomain}";
    }

    public static bool IsWildcard(string host) => host.Length > 0 && host[0] == '*';

    /// <summary>The longest DNS name in text form (RFC 1035: 255 octets on the wire).</summary>
    public const int MaxLength = 253;

    /// <summary>The longest wildcard host: <c>*.</c> before a name of <see cref="MaxLength"/>.</summary>
    public const int MaxWildcardLength = MaxLength + 2;

    /// <summary>The longest host <paramref name="host"/> may be: <see cref="MaxWildcardLength"/> for a wildcard, else <see cref="MaxLength"/>.</summary>
    public static int MaxLengthOf(string host) => IsWildcard(host) ? MaxWildcardLength : MaxLength;

    /// <summary>Whether <paramref name="host"/> is longer than any host can be (<see cref="MaxLengthOf"/>): EGW209 refuses
    /// it, and every matcher treats it as matching only itself, so that no index splits it into suffixes.</summary>
    public static bool IsOverlong(string host) => host.Length > MaxLengthOf(host);

    /// <summary>Whether a host is the cluster's own (<c>*.svc.cluster.local</c> or a short name).</summary>
    public static bool IsClusterLocal(string resolvedHost) =>
        resolvedHost.EndsWith("." + ClusterDomain, StringComparison.Ordinal) || resolvedHost == ClusterDomain;

    /// <summary>The namespace of a <c>name.ns.svc.cluster.local</c> host, else null.</summary>
    public static string? NamespaceOf(string resolvedHost)
    {
        if (!resolvedHost.EndsWith("." + ClusterDomain, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = resolvedHost[..^(ClusterDomain.Length + 1)].Split('.');
        return parts.Length == 2 && parts[0] != "*" ? parts[1] : null;
    }

    /// <summary>Whether two hosts overlap: equal, or a wildcard <c>*.s</c> on either side covers the other
    /// (<c>*.foo.com</c> does not match <c>foo.com</c>); <c>*</c> matches everything.</summary>
    public static bool Matches(string a, string b)
    {
        if (a == b)
        {
            return true;
        }

        if (IsOverlong(a) || IsOverlong(b))
        {
            return false;
        }

        var aw = IsWildcard(a);
        var bw = IsWildcard(b);
        if (aw && bw)
        {
            // both wildcards: the longer suffix must end with the shorter one
            var sa = a[1..];
            var sb = b[1..];
            return sa.Length <= sb.Length ? sb.EndsWith(sa, StringComparison.Ordinal) : sa.EndsWith(sb, StringComparison.Ordinal);
        }

        if (aw)
        {
            return CoveredBy(b, a);
        }

        return bw && CoveredBy(a, b);
    }

    /// <summary>Whether every name <paramref name="a"/> stands for is also named by <paramref name="b"/>.</summary>
    public static bool SubsetOf(string a, string b)
    {
        if (a == b)
        {
            return true;
        }

        if (IsOverlong(a) || IsOverlong(b))
        {
            return false;
        }

        if (b == "*")
        {
            return true;
        }

        if (!IsWildcard(b))
        {
            return false;
        }

        // b = *.s: a must end in .s (a may itself be a narrower wildcard)
        return a.Length > b.Length - 1 && a.EndsWith(b[1..], StringComparison.Ordinal) && a != "*";
    }

    /// <summary>Non-wildcard <paramref name="name"/> covered by wildcard <paramref name="wildcard"/>.</summary>
    private static bool CoveredBy(string name, string wildcard) =>
        wildcard == "*" || (name.Length > wildcard.Length - 1 && name.EndsWith(wildcard[1..], StringComparison.Ordinal));
}
