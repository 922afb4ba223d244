using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>Which list a route rule sits in.</summary>
public enum RouteKind
{
    Http,
    Tls,
    Tcp,
}

/// <summary>Where a destination sits in its rule.</summary>
public enum DestinationField
{
    /// <summary><c>route[i].destination</c>.</summary>
    Route,

    /// <summary><c>mirror</c> (http only).</summary>
    Mirror,

    /// <summary><c>mirrors[i].destination</c> (http only).</summary>
    Mirrors,
}

/// <summary>One destination of a VirtualService, with where it sits and which gateways its rule applies to.</summary>
/// <param name="Destination">The destination as written.</param>
/// <param name="Host">Its host resolved against the VirtualService's namespace.</param>
/// <param name="Kind">http, tls or tcp.</param>
/// <param name="RuleIndex">Index of the rule in its list.</param>
/// <param name="Field">route, mirror or mirrors.</param>
/// <param name="Index">Index in <c>route</c> or <c>mirrors</c> (0 for <c>mirror</c>).</param>
/// <param name="Gateways">Resolved gateways the rule applies to (<c>mesh</c> or <c>ns/name</c>).</param>
public sealed record DestinationRef(Destination Destination, string Host, RouteKind Kind, int RuleIndex, DestinationField Field, int Index, IReadOnlyList<string> Gateways)
{
    /// <summary>A mirror target rather than a route.</summary>
    public bool IsMirror => Field != DestinationField.Route;

    /// <summary>Field path, e.g. <c>spec.tls[0].route[0].destination</c>; made when a finding needs it.</summary>
    public string Path => Field switch
    {
        DestinationField.Route => $"{RouteRule.PathOf(Kind, RuleIndex)}.route[{Index}].destination",
        DestinationField.Mirror => $"{RouteRule.PathOf(Kind, RuleIndex)}.mirror",
        _ => $"{RouteRule.PathOf(Kind, RuleIndex)}.mirrors[{Index}].destination",
    };

    /// <summary>The list the destination's rule is in (<c>spec.http</c>, <c>spec.tls</c>, <c>spec.tcp</c>): where a
    /// finding past the cap is counted, without formatting its path.</summary>
    public string ListPath => Kind switch
    {
        RouteKind.Http => "spec.http",
        RouteKind.Tls => "spec.tls",
        _ => "spec.tcp",
    };
}

/// <summary>Enumerates the destinations of a VirtualService's http, tls and tcp rules.</summary>
internal static class RouteDestinations
{
    /// <summary>Every route and mirror destination of <paramref name="vs"/>, in field order.</summary>
    public static IReadOnlyList<DestinationRef> Of(VirtualService vs)
    {
        var result = new List<DestinationRef>(Capacity(vs.Spec));
        var ns = vs.Namespace;

        // the VirtualService's own gateways, resolved once: every rule without match-level gateways shares the list, and
        // rules whose matches name the same gateways share one list too (GatewayLists.Shared), so that what a rule computes
        // per list (RuleContext.ScopesOf, ExistingGatewayRefs) is computed once per distinct list, not once per rule
        var specGateways = RefList.Of(GatewayRefs.Of(vs));
        Dictionary<IReadOnlyList<string>, IReadOnlyList<string>>? shared = null;
        for (var i = 0; i < vs.Spec.Http.Count; i++)
        {
            var rule = vs.Spec.Http[i];
            var gateways = GatewayLists.Shared(GatewayRefs.OfRule(vs, rule.Match, static m => m.Gateways, specGateways), specGateways, ref shared);
            for (var j = 0; j < rule.Route.Count; j++)
            {
                Add(result, rule.Route[j].Destination, ns, RouteKind.Http, i, DestinationField.Route, j, gateways);
            }

            Add(result, rule.Mirror, ns, RouteKind.Http, i, DestinationField.Mirror, 0, gateways);
            for (var j = 0; j < rule.Mirrors.Count; j++)
            {
                Add(result, rule.Mirrors[j].Destination, ns, RouteKind.Http, i, DestinationField.Mirrors, j, gateways);
            }
        }

        for (var i = 0; i < vs.Spec.Tls.Count; i++)
        {
            var rule = vs.Spec.Tls[i];
            var gateways = GatewayLists.Shared(GatewayRefs.OfRule(vs, rule.Match, static m => m.Gateways, specGateways), specGateways, ref shared);
            for (var j = 0; j < rule.Route.Count; j++)
            {
                Add(result, rule.Route[j].Destination, ns, RouteKind.Tls, i, DestinationField.Route, j, gateways);
            }
        }

        for (var i = 0; i < vs.Spec.Tcp.Count; i++)
        {
            var rule = vs.Spec.Tcp[i];
            var gateways = GatewayLists.Shared(GatewayRefs.OfRule(vs, rule.Match, static m => m.Gateways, specGateways), specGateways, ref shared);
            for (var j = 0; j < rule.Route.Count; j++)
            {
                Add(result, rule.Route[j].Destination, ns, RouteKind.Tcp, i, DestinationField.Route, j, gateways);
            }
        }

        return result;
    }

    /// <summary>How many destinations <paramref name="spec"/> can have at most: the list is made once, at its size.</summary>
    private static int Capacity(VirtualServiceSpec spec)
    {
        var count = 0;
        for (var i = 0; i < spec.Http.Count; i++)
        {
            count += spec.Http[i].Route.Count + spec.Http[i].Mirrors.Count + 1;
        }

        for (var i = 0; i < spec.Tls.Count; i++)
        {
            count += spec.Tls[i].Route.Count;
        }

        for (var i = 0; i < spec.Tcp.Count; i++)
        {
            count += spec.Tcp[i].Route.Count;
        }

        return count;
    }

    private static void Add(List<DestinationRef> into, Destination? d, string ns, RouteKind kind, int rule, DestinationField field, int index, IReadOnlyList<string> gateways)
    {
        if (d is not null && d.Host.Length > 0)
        {
            into.Add(new DestinationRef(d, HostName.Resolve(d.Host, ns), kind, rule, field, index, gateways));
        }
    }
}
