using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>One match of a route rule, as the gateway-aware rules read it.</summary>
/// <param name="Kind">http, tls or tcp.</param>
/// <param name="RuleIndex">Index of its rule in its list.</param>
/// <param name="Index">Index in the rule's <c>match</c> list.</param>
/// <param name="Port">The match's <c>port</c>, if set.</param>
/// <param name="Gateways">Resolved gateways the match applies to: its own list, else the VirtualService's.</param>
/// <param name="SniHosts">Its <c>sniHosts</c> resolved in the VirtualService's namespace (tls rules only).</param>
public sealed record RouteMatch(RouteKind Kind, int RuleIndex, int Index, int? Port, IReadOnlyList<string> Gateways, IReadOnlyList<string> SniHosts)
{
    /// <summary>Field path, e.g. <c>spec.tls[0].match[1]</c>; made when a finding needs it, not for every check.</summary>
    public string Path => $"{RouteRule.PathOf(Kind, RuleIndex)}.match[{Index}]";
}

/// <summary>One http, tls or tcp rule of a VirtualService with the gateways it applies to.</summary>
/// <param name="Kind">http, tls or tcp.</param>
/// <param name="Index">Index in its list.</param>
/// <param name="Matches">Its matches (empty: the rule matches all traffic of its gateways).</param>
/// <param name="Gateways">Resolved gateways the rule applies to (<see cref="GatewayRefs.OfRule(VirtualService, IEnumerable{IReadOnlyList{string}})"/>).</param>
/// <param name="Destinations">Its route destinations (mirrors excluded).</param>
public sealed record RouteRule(RouteKind Kind, int Index, IReadOnlyList<RouteMatch> Matches, IReadOnlyList<string> Gateways, IReadOnlyList<DestinationRef> Destinations)
{
    /// <summary>Field path, e.g. <c>spec.tls[0]</c>.</summary>
    public string Path => PathOf(Kind, Index);

    internal static string PathOf(RouteKind kind, int index) => kind switch
    {
        RouteKind.Http => $"spec.http[{index}]",
        RouteKind.Tls => $"spec.tls[{index}]",
        _ => $"spec.tcp[{index}]",
    };

    /// <summary>Whether the rule applies to traffic arriving at <paramref name="gateway"/> (<c>mesh</c> or <c>ns/name</c>).</summary>
    public bool AppliesTo(string gateway) => Gateways.Contains(gateway);

    /// <summary>The matches that apply to <paramref name="gateway"/>.</summary>
    public IEnumerable<RouteMatch> MatchesFor(string gateway) => Matches.Where(m => m.Gateways.Contains(gateway));

    /// <summary>The ports the rule matches at <paramref name="gateway"/>; a null entry means any port.</summary>
    public IReadOnlyList<int?> PortsFor(string gateway) =>
        Matches.Count == 0 ? [null] : MatchesFor(gateway).Select(m => m.Port).Distinct().ToList();

    /// <summary>The hosts whose traffic the rule takes at <paramref name="gateway"/>: for a tls rule the SNI hosts of its
    /// matches there (the SNI is what a tls rule routes on), otherwise, or when none are given, the VirtualService's hosts.</summary>
    public IReadOnlyList<string> HostsFor(VirtualService vs, string gateway)
    {
        if (Kind == RouteKind.Tls && SniHostsFor(gateway) is { } sni)
        {
            return sni;
        }

        return ResolvedHosts ?? vs.Spec.Hosts.Select(h => HostName.Resolve(h, vs.Namespace)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The distinct SNI hosts of the matches for <paramref name="gateway"/>, or null when they give none. Every
    /// gateway-chain check asks this: the usual single match with one SNI host is its own answer, without a copy.</summary>
    private IReadOnlyList<string>? SniHostsFor(string gateway)
    {
        RouteMatch? only = null;
        var withSni = 0;
        for (var i = 0; i < Matches.Count; i++)
        {
            if (Matches[i].SniHosts.Count > 0 && Matches[i].Gateways.Contains(gateway))
            {
                only = Matches[i];
                withSni++;
            }
        }

        return withSni switch
        {
            0 => null,
            1 when only!.SniHosts.Count == 1 => only.SniHosts,
            _ => MatchesFor(gateway).SelectMany(m => m.SniHosts).Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>The VirtualService's resolved distinct hosts, computed once for all its rules by <see cref="RouteRules.Of(VirtualService)"/>.</summary>
    internal IReadOnlyList<string>? ResolvedHosts { get; init; }
}

/// <summary>Enumerates a VirtualService's route rules with their matches, gateways and destinations.</summary>
internal static class RouteRules
{
    /// <summary>The http, tls and tcp rules of <paramref name="vs"/>, in that order.</summary>
    public static IReadOnlyList<RouteRule> Of(VirtualService vs) => Of(vs, RouteDestinations.Of(vs));

    /// <summary>The rules of <paramref name="vs"/> with its <paramref name="destinations"/> (<see cref="RouteDestinations.Of"/>) already at hand.</summary>
    internal static IReadOnlyList<RouteRule> Of(VirtualService vs, IReadOnlyList<DestinationRef> destinations)
    {
        // on every check's hot path: plain loops, and no strings until a finding needs a path
        var specGateways = RefList.Of(GatewayRefs.Of(vs));
        var spec = vs.Spec;

        // equal gateway lists of matches and rules shared, as RouteDestinations.Of shares those of its destinations
        Dictionary<IReadOnlyList<string>, IReadOnlyList<string>>? sharedMatches = null, sharedRules = null;

        // each rule's destinations: they come in field order (RouteDestinations.Of), so a rule's are the next ones
        var next = 0;
        IReadOnlyList<string>? hosts = null;
        var result = new List<RouteRule>(spec.Http.Count + spec.Tls.Count + spec.Tcp.Count);
        for (var i = 0; i < spec.Http.Count; i++)
        {
            var match = spec.Http[i].Match;
            var matches = new RouteMatch[match.Count];
            for (var j = 0; j < matches.Length; j++)
            {
                matches[j] = new RouteMatch(RouteKind.Http, i, j, match[j].Port, Gateways(match[j].Gateways), []);
            }

            result.Add(Rule(RouteKind.Http, i, matches, match, static m => m.Gateways));
        }

        for (var i = 0; i < spec.Tls.Count; i++)
        {
            var match = spec.Tls[i].Match;
            var matches = new RouteMatch[match.Count];
            for (var j = 0; j < matches.Length; j++)
            {
                var sni = match[j].SniHosts;
                var resolved = new string[sni.Count];
                for (var k = 0; k < resolved.Length; k++)
                {
                    resolved[k] = HostName.Resolve(sni[k], vs.Namespace);
                }

                matches[j] = new RouteMatch(RouteKind.Tls, i, j, match[j].Port, Gateways(match[j].Gateways), resolved);
            }

            result.Add(Rule(RouteKind.Tls, i, matches, match, static m => m.Gateways));
        }

        for (var i = 0; i < spec.Tcp.Count; i++)
        {
            var match = spec.Tcp[i].Match;
            var matches = new RouteMatch[match.Count];
            for (var j = 0; j < matches.Length; j++)
            {
                matches[j] = new RouteMatch(RouteKind.Tcp, i, j, match[j].Port, Gateways(match[j].Gateways), []);
            }

            result.Add(Rule(RouteKind.Tcp, i, matches, match, static m => m.Gateways));
        }

        return result;

        IReadOnlyList<string> Gateways(IReadOnlyList<string> matchGateways)
        {
            if (matchGateways.Count == 0)
            {
                return specGateways;
            }

            var resolved = new string[matchGateways.Count];
            for (var k = 0; k < resolved.Length; k++)
            {
                resolved[k] = GatewayRefs.Resolve(matchGateways[k], vs.Namespace);
            }

            return GatewayLists.Shared(resolved, specGateways, ref sharedMatches);
        }

        RouteRule Rule<TMatch>(RouteKind kind, int index, RouteMatch[] matches, IReadOnlyList<TMatch> match, Func<TMatch, IReadOnlyList<string>> gatewaysOf)
        {
            hosts ??= DistinctResolvedHosts(vs);
            List<DestinationRef>? own = null;
            IReadOnlyList<string>? gateways = null;
            for (; next < destinations.Count && destinations[next].Kind == kind && destinations[next].RuleIndex == index; next++)
            {
                // the rule's gateways are its destinations' (the same resolution, RouteDestinations.Of), as the same list
                gateways ??= destinations[next].Gateways;
                if (!destinations[next].IsMirror)
                {
                    (own ??= []).Add(destinations[next]);
                }
            }

            gateways ??= GatewayLists.Shared(GatewayRefs.OfRule(vs, match, gatewaysOf, specGateways), specGateways, ref sharedRules);
            return new RouteRule(kind, index, matches, RefList.Of(gateways), (IReadOnlyList<DestinationRef>?)own ?? []) { ResolvedHosts = hosts };
        }
    }

    /// <summary>The hosts of <paramref name="vs"/> resolved in its namespace, each once, in order.</summary>
    private static List<string> DistinctResolvedHosts(VirtualService vs)
    {
        var written = vs.Spec.Hosts;
        var result = new List<string>(written.Count);
        var seen = written.Count > RefList.ScanAtMost ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (var i = 0; i < written.Count; i++)
        {
            var h = HostName.Resolve(written[i], vs.Namespace);
            if (seen is null ? !result.Contains(h) : seen.Add(h))
            {
                result.Add(h);
            }
        }

        return result;
    }
}

/// <summary>Gateway lists of one VirtualService's rules and matches, equal ones shared as one instance: rules and the
/// context cache what they compute per list by reference (scopes, existing Gateways), and a VirtualService may have
/// 50,000 rules that each name <c>mesh</c> in their match.</summary>
internal static class GatewayLists
{
    /// <summary><paramref name="list"/> (set-backed when long, <see cref="RefList.Of"/>), or the earlier one of
    /// <paramref name="seen"/> (or <paramref name="spec"/>) with the same references in the same order.</summary>
    public static IReadOnlyList<string> Shared(IReadOnlyList<string> list, IReadOnlyList<string> spec, ref Dictionary<IReadOnlyList<string>, IReadOnlyList<string>>? seen)
    {
        if (ReferenceEquals(list, spec))
        {
            return spec;
        }

        list = RefList.Of(list);
        // a list equal to the VirtualService's own is that one
        seen ??= new Dictionary<IReadOnlyList<string>, IReadOnlyList<string>>(SameItems.Instance) { [spec] = spec };
        if (seen.TryGetValue(list, out var earlier))
        {
            return earlier;
        }

        seen[list] = list;
        return list;
    }

    /// <summary>Lists compared by their items, in order (ordinal).</summary>
    private sealed class SameItems : IEqualityComparer<IReadOnlyList<string>>
    {
        public static readonly SameItems Instance = new();

        public bool Equals(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Count != y.Count)
            {
                return false;
            }

            for (var i = 0; i < x.Count; i++)
            {
                if (!string.Equals(x[i], y[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(IReadOnlyList<string> obj)
        {
            var hash = new HashCode();
            hash.Add(obj.Count);
            for (var i = 0; i < obj.Count; i++)
            {
                hash.Add(obj[i], StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}

/// <summary>A list of gateway references that answers <c>Contains</c> from a set once it is long: rules ask whether a rule
/// or match applies to a gateway for every gateway they look at, and an object may list thousands of references
/// (LINQ's <c>Contains</c> uses <see cref="ICollection{T}.Contains"/>).</summary>
internal sealed class RefList : IReadOnlyList<string>, ICollection<string>
{
    internal const int ScanAtMost = 8;
    private readonly IReadOnlyList<string> _items;
    private readonly HashSet<string> _set;

    private RefList(IReadOnlyList<string> items)
    {
        _items = items;
        _set = new HashSet<string>(items, StringComparer.Ordinal);
    }

    /// <summary><paramref name="items"/> itself when short (or already a set-backed list), else a set-backed wrapper.</summary>
    public static IReadOnlyList<string> Of(IReadOnlyList<string> items) => items.Count <= ScanAtMost || items is RefList ? items : new RefList(items);

    public int Count => _items.Count;

    public bool IsReadOnly => true;

    public string this[int index] => _items[index];

    public bool Contains(string item) => _set.Contains(item);

    public IEnumerator<string> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public void CopyTo(string[] array, int arrayIndex)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            array[arrayIndex + i] = _items[i];
        }
    }

    public void Add(string item) => throw new NotSupportedException();

    public void Clear() => throw new NotSupportedException();

    public bool Remove(string item) => throw new NotSupportedException();
}
