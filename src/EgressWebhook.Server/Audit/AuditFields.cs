namespace EgressWebhook.Server.Audit;

/// <summary>Caps what the audit line copies from the request (uid, user, groups, kind, names): a caller cannot make a line
/// longer than a few KB. Each field has a budget in bytes as the JSON writer may escape it (6 bytes for a character it
/// writes as <c>\uXXXX</c>), so the bound holds whatever the characters are. A capped value ends in <c>…</c> and the
/// record lists the field under <c>truncated</c>.</summary>
internal static class AuditFields
{
    public const int UidBytes = 128;
    public const int UserBytes = 512;
    public const int NameBytes = 512;
    public const int NamespaceBytes = 192;
    public const int KindBytes = 192;
    public const int OperationBytes = 48;
    public const int GroupBytes = 256;
    public const int GroupsBytes = 2048;
    public const int MaxGroups = 32;

    /// <summary>Budget of each host list (<c>hostsAdded</c>, <c>hostsRemoved</c>): an object may list thousands of hosts,
    /// the line names the first few and how many more (<c>kubectl-egress hosts</c> lists them all).</summary>
    public const int HostsBytes = 160;

    /// <summary>Budget of <c>exceptions</c> (the policies whose break-glass let a request through; usually one).</summary>
    public const int ExceptionsBytes = 128;

    private const string Ellipsis = "…";

    /// <summary>The upper bound of a line's length with every field at its cap (the fixed fields are far below 512 bytes).</summary>
    public const int MaxLineBytes = UidBytes + UserBytes + NameBytes + NamespaceBytes + KindBytes + OperationBytes + GroupsBytes + (2 * HostsBytes) + ExceptionsBytes + 512;

    /// <summary><paramref name="value"/>, or its longest prefix that fits <paramref name="budget"/> followed by an
    /// ellipsis (the ellipsis counted); null stays null.</summary>
    public static string? Cap(string? value, int budget, string field, ICollection<string> truncated)
    {
        if (value is null)
        {
            return null;
        }

        var cost = 0;
        for (var i = 0; i < value.Length; i++)
        {
            cost += Cost(value[i]);
            if (cost > budget)
            {
                if (!truncated.Contains(field))
                {
                    truncated.Add(field);
                }

                var keep = Prefix(value, budget - Cost(Ellipsis[0]));
                return string.Concat(value.AsSpan(0, keep), Ellipsis);
            }
        }

        return value;
    }

    /// <summary>A request uid for a log line, capped like the audit line's.</summary>
    public static string LogUid(string? uid) => Cap(uid ?? "", UidBytes, "uid", []) ?? "";

    /// <summary>At most <see cref="MaxGroups"/> groups, each capped, <see cref="GroupsBytes"/> in all; when some are left
    /// out, a last entry says how many.</summary>
    public static IReadOnlyList<string>? CapGroups(IReadOnlyList<string>? groups, ICollection<string> truncated)
    {
        if (groups is null)
        {
            return null;
        }

        var kept = new List<string>(Math.Min(groups.Count, MaxGroups));
        var total = 0;
        var capped = false;
        foreach (var group in groups)
        {
            var value = Cap(group ?? "", GroupBytes, "groups", truncated) ?? "";
            var cost = Measure(value) + 3; // quotes and comma
            if (kept.Count == MaxGroups - 1 || total + cost > GroupsBytes - 32)
            {
                capped = true;
                break;
            }

            kept.Add(value);
            total += cost;
        }

        if (capped)
        {
            kept.Add($"… and {groups.Count - kept.Count} more");
            if (!truncated.Contains("groups"))
            {
                truncated.Add("groups");
            }
        }

        return kept;
    }

    /// <summary>At most <see cref="HostsBytes"/> of <paramref name="hosts"/>; when some are left out, a last entry says
    /// how many. Null when the list is empty.</summary>
    public static IReadOnlyList<string>? CapHosts(IReadOnlyList<string> hosts, string field, ICollection<string> truncated) =>
        CapList(hosts, HostsBytes, field, truncated);

    /// <summary>At most <paramref name="budget"/> bytes of <paramref name="values"/> (each entry capped to
    /// <see cref="GroupBytes"/>); when some are left out, a last entry says how many. Null when the list is empty.</summary>
    public static IReadOnlyList<string>? CapList(IReadOnlyList<string> values, int budget, string field, ICollection<string> truncated)
    {
        var hosts = values;
        if (hosts.Count == 0)
        {
            return null;
        }

        var kept = new List<string>();
        var total = 0;
        foreach (var host in hosts)
        {
            var value = Cap(host, GroupBytes, field, truncated) ?? "";
            var cost = Measure(value) + 3;
            if (total + cost > budget - 32)
            {
                kept.Add($"… and {hosts.Count - kept.Count} more");
                if (!truncated.Contains(field))
                {
                    truncated.Add(field);
                }

                break;
            }

            kept.Add(value);
            total += cost;
        }

        return kept;
    }

    /// <summary>Bytes the default JSON encoder may write for a character: printable ASCII that needs no escape is one,
    /// anything else at most six (<c>\uXXXX</c>; a surrogate pair is two of them).</summary>
    private static int Cost(char c) => c is >= ' ' and <= '~' and not ('"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`') ? 1 : 6;

    private static int Measure(string value)
    {
        var cost = 0;
        foreach (var c in value)
        {
            cost += Cost(c);
        }

        return cost;
    }

    /// <summary>How many leading characters fit <paramref name="budget"/>, never splitting a surrogate pair.</summary>
    private static int Prefix(string value, int budget)
    {
        var cost = 0;
        var i = 0;
        while (i < value.Length && cost + Cost(value[i]) <= budget)
        {
            cost += Cost(value[i]);
            i++;
        }

        if (i > 0 && i < value.Length && char.IsHighSurrogate(value[i - 1]))
        {
            i--;
        }

        return i;
    }
}
