using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.GatewayApi;

/// <summary>EGW515: a route's Service backend in another namespace that no ReferenceGrant of that namespace admits.</summary>
/// <remarks>Gateway API: a reference to an object of another namespace is valid only when a ReferenceGrant in the target's
/// namespace lists the route's kind and namespace in <c>from</c> and the target in <c>to</c> (no <c>name</c>: every object
/// of the kind). Without it the backend is refused (status <c>ResolvedRefs=False</c>, reason <c>RefNotPermitted</c>) and the
/// gateway answers 500 (Istio's mTLS origination task, Gateway API tab, adds one for <c>mesh-external/my-nginx</c>).
/// Error; an incompleteness (the grant may come later in the apply).</remarks>
internal sealed class Egw515ReferenceGrantMissing : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.ReferenceGrantMissing];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.ReferenceGrant];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.GatewayApiRoute;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not GatewayApiRoute route)
        {
            return;
        }

        foreach (var (path, backend) in RouteRefs.Backends(route))
        {
            if (!backend.IsService || backend.Name.Length == 0 || string.IsNullOrEmpty(backend.Namespace) || backend.Namespace == route.Namespace)
            {
                continue;
            }

            if (!Granted(context.View, route, backend.Namespace, "", "Service", backend.Name))
            {
                context.Report(new Awaited(ResourceKind.ReferenceGrant, $"a ReferenceGrant in {backend.Namespace} for {route.RouteKind} from {route.Namespace}"),
                    RuleIds.ReferenceGrantMissing, Severity.Error, route, $"{path}.namespace",
                    $"RefNotPermitted: no ReferenceGrant in {backend.Namespace} lets {route.RouteKind}s of {route.Namespace} use Service {backend.Name}; add one");
            }
        }
    }

    /// <summary>Whether a ReferenceGrant of <paramref name="ns"/> lets <paramref name="route"/> refer to the object.</summary>
    public static bool Granted(SnapshotView view, GatewayApiRoute route, string ns, string group, string kind, string name) =>
        view.OfKind<ReferenceGrant>(ResourceKind.ReferenceGrant).Any(g => g.Namespace == ns
            && g.Spec.From.Any(f => f.Group == GatewayApiRoute.Group && f.Kind == route.RouteKind && f.Namespace == route.Namespace)
            && g.Spec.To.Any(t => (t.Group ?? "") == group && t.Kind == kind && (string.IsNullOrEmpty(t.Name) || t.Name == name)));

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is ReferenceGrant grant
            ? RouteRefs.All(view).Where(r => RouteRefs.Backends(r).Any(b => b.Backend.Namespace == grant.Namespace && grant.Namespace != r.Namespace))
            : [];
}
