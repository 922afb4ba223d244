using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.GatewayApi;

/// <summary>A route's references with their manifest paths.</summary>
internal static class RouteRefs
{
    /// <summary>Every <c>spec.rules[r].backendRefs[b]</c>.</summary>
    public static IEnumerable<(string Path, BackendReference Backend)> Backends(GatewayApiRoute route)
    {
        for (var r = 0; r < route.Spec.Rules.Count; r++)
        {
            var refs = route.Spec.Rules[r].BackendRefs;
            for (var b = 0; b < refs.Count; b++)
            {
                yield return ($"spec.rules[{r}].backendRefs[{b}]", refs[b]);
            }
        }
    }

    /// <summary>Every <c>spec.parentRefs[i]</c>.</summary>
    public static IEnumerable<(string Path, ParentReference Parent)> Parents(GatewayApiRoute route)
    {
        for (var i = 0; i < route.Spec.ParentRefs.Count; i++)
        {
            yield return ($"spec.parentRefs[{i}]", route.Spec.ParentRefs[i]);
        }
    }

    /// <summary>The namespace a reference points into: its own, else the route's.</summary>
    public static string NamespaceOf(string? written, GatewayApiRoute route) => string.IsNullOrEmpty(written) ? route.Namespace : written;

    /// <summary>Whether the route has a ServiceEntry parent (it intercepts the entry's hosts: the first leg of Gateway API egress).</summary>
    public static bool HasServiceEntryParent(GatewayApiRoute route) => route.Spec.ParentRefs.Any(p => p.IsServiceEntry);

    /// <summary>The routes of the view.</summary>
    public static IEnumerable<GatewayApiRoute> All(Snapshot.SnapshotView view) => view.OfKind<GatewayApiRoute>(ResourceKind.GatewayApiRoute);
}
