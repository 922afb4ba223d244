using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>One match of a route rule, as the gateway-aware rules read it.</summary>
/// <param name="Path">Field path, e.g. <c>spec.tls[0].match[1]</c>.</param>
/// <param name="Port">The match's <c>port</c>, if set.</param>
/// <param name="Gateways">Resolved gateways the match applies to: its own list, else the VirtualService's.</param>
/// <param name="SniHosts">Its <c>sniHosts</c> resolved in the VirtualService's namespace (tls rules only).</param>
public sealed record RouteMatch(string Path, int? Port, IReadOnlyList<string> Gateways, IReadOnlyList<string> SniHosts);

/// <summary>One http, tls or tcp rule of a VirtualService with the gateways it applies to.</summary>
/// <param name="Kind">http, tls or tcp.</param>
/// <param name="Index">Index in its list.</param>
/// <param name="Path">Field path, e.g. <c>spec.tls[0]</c>.</param>
/// <param name="Matches">Its matches (empty: the rule matches all traffic of its gateways).</param>
/// <param name="Gateways">Resolved gateways the rule applies to (<see cref="GatewayRefs.OfRule"/>).</param>
/// <param name="Destinations">Its route destinations (mirrors excluded).</param>
public sealed record RouteRule(RouteKind Kind, int Index, string Path, IReadOnlyList<RouteMatch> Matches, IReadOnlyList<string> Gateways, IReadOnlyList<DestinationRef> Destinations)
{
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
        if (Kind == RouteKind.Tls)
        {
            var sni = MatchesFor(gateway).SelectMany(m => m.SniHosts).Distinct(StringComparer.Ordinal).ToList();
            if (sni.Count > 0)
            {
                return sni;
            }
        }

        return vs.Spec.Hosts.Select(h => HostName.Resolve(h, vs.Namespace)).Distinct(StringComparer.Ordinal).ToList();
    }
}

/// <summary>Enumerates a VirtualService's route rules with their matches, gateways and destinations.</summary>
public static class RouteRules
{
    /// <summary>The http, tls and tcp rules of <paramref name="vs"/>, in that order.</summary>
    public static IReadOnlyList<RouteRule> Of(VirtualService vs)
    {
        var destinations = RouteDestinations.Of(vs);
        var specGateways = GatewayRefs.Of(vs);
        var result = new List<RouteRule>();
        for (var i = 0; i < vs.Spec.Http.Count; i++)
        {
            var rule = vs.Spec.Http[i];
            var matches = rule.Match.Select((m, j) => new RouteMatch($"spec.http[{i}].match[{j}]", m.Port, Gateways(m.Gateways), [])).ToList();
            result.Add(Rule(RouteKind.Http, i, "http", matches, rule.Match.Select(m => m.Gateways)));
        }

        for (var i = 0; i < vs.Spec.Tls.Count; i++)
        {
            var rule = vs.Spec.Tls[i];
            var matches = rule.Match.Select((m, j) => new RouteMatch(
                $"spec.tls[{i}].match[{j}]", m.Port, Gateways(m.Gateways),
                m.SniHosts.Select(h => HostName.Resolve(h, vs.Namespace)).ToList())).ToList();
            result.Add(Rule(RouteKind.Tls, i, "tls", matches, rule.Match.Select(m => m.Gateways)));
        }

        for (var i = 0; i < vs.Spec.Tcp.Count; i++)
        {
            var rule = vs.Spec.Tcp[i];
            var matches = rule.Match.Select((m, j) => new RouteMatch($"spec.tcp[{i}].match[{j}]", m.Port, Gateways(m.Gateways), [])).ToList();
            result.Add(Rule(RouteKind.Tcp, i, "tcp", matches, rule.Match.Select(m => m.Gateways)));
        }

        return result;

        IReadOnlyList<string> Gateways(IReadOnlyList<string> matchGateways) =>
            matchGateways.Count == 0 ? specGateways : matchGateways.Select(g => GatewayRefs.Resolve(g, vs.Namespace)).ToList();

        RouteRule Rule(RouteKind kind, int index, string list, List<RouteMatch> matches, IEnumerable<IReadOnlyList<string>> matchGateways) =>
            new(kind, index, $"spec.{list}[{index}]", matches, GatewayRefs.OfRule(vs, matchGateways),
                destinations.Where(d => d.Kind == kind && d.RuleIndex == index && !d.IsMirror).ToList());
    }
}
