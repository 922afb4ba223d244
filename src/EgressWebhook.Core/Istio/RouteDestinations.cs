using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>Which list a route rule sits in.</summary>
public enum RouteKind
{
    Http,
    Tls,
    Tcp,
}

/// <summary>One destination of a VirtualService, with where it sits and which gateways its rule applies to.</summary>
/// <param name="Destination">The destination as written.</param>
/// <param name="Host">Its host resolved against the VirtualService's namespace.</param>
/// <param name="Path">Field path, e.g. <c>spec.tls[0].route[0].destination</c>.</param>
/// <param name="Kind">http, tls or tcp.</param>
/// <param name="RuleIndex">Index of the rule in its list.</param>
/// <param name="Gateways">Resolved gateways the rule applies to (<c>mesh</c> or <c>ns/name</c>).</param>
/// <param name="IsMirror">A mirror target rather than a route.</param>
public sealed record DestinationRef(Destination Destination, string Host, string Path, RouteKind Kind, int RuleIndex, IReadOnlyList<string> Gateways, bool IsMirror);

/// <summary>Enumerates the destinations of a VirtualService's http, tls and tcp rules.</summary>
public static class RouteDestinations
{
    /// <summary>Every route and mirror destination of <paramref name="vs"/>, in field order.</summary>
    public static IReadOnlyList<DestinationRef> Of(VirtualService vs)
    {
        var result = new List<DestinationRef>();
        var ns = vs.Namespace;
        for (var i = 0; i < vs.Spec.Http.Count; i++)
        {
            var rule = vs.Spec.Http[i];
            var gateways = GatewayRefs.OfRule(vs, rule.Match.Select(m => m.Gateways));
            for (var j = 0; j < rule.Route.Count; j++)
            {
                Add(result, rule.Route[j].Destination, ns, $"spec.http[{i}].route[{j}].destination", RouteKind.Http, i, gateways, false);
            }

            Add(result, rule.Mirror, ns, $"spec.http[{i}].mirror", RouteKind.Http, i, gateways, true);
            for (var j = 0; j < rule.Mirrors.Count; j++)
            {
                Add(result, rule.Mirrors[j].Destination, ns, $"spec.http[{i}].mirrors[{j}].destination", RouteKind.Http, i, gateways, true);
            }
        }

        for (var i = 0; i < vs.Spec.Tls.Count; i++)
        {
            var rule = vs.Spec.Tls[i];
            var gateways = GatewayRefs.OfRule(vs, rule.Match.Select(m => m.Gateways));
            for (var j = 0; j < rule.Route.Count; j++)
            {
                Add(result, rule.Route[j].Destination, ns, $"spec.tls[{i}].route[{j}].destination", RouteKind.Tls, i, gateways, false);
            }
        }

        for (var i = 0; i < vs.Spec.Tcp.Count; i++)
        {
            var rule = vs.Spec.Tcp[i];
            var gateways = GatewayRefs.OfRule(vs, rule.Match.Select(m => m.Gateways));
            for (var j = 0; j < rule.Route.Count; j++)
            {
                Add(result, rule.Route[j].Destination, ns, $"spec.tcp[{i}].route[{j}].destination", RouteKind.Tcp, i, gateways, false);
            }
        }

        return result;
    }

    private static void Add(List<DestinationRef> into, Destination? d, string ns, string path, RouteKind kind, int rule, IReadOnlyList<string> gateways, bool mirror)
    {
        if (d is not null && d.Host.Length > 0)
        {
            into.Add(new DestinationRef(d, HostName.Resolve(d.Host, ns), path, kind, rule, gateways, mirror));
        }
    }
}
