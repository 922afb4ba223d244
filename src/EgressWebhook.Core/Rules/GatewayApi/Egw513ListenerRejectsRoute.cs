using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.GatewayApi;

/// <summary>EGW513: the second leg of Gateway API egress (a route with a Gateway parent) is not admitted by any listener
/// it selects: the Gateway does not exist, no listener has the <c>sectionName</c>/<c>port</c>, or every selected listener
/// refuses it (protocol and TLS mode for the route kind, <c>allowedRoutes</c>, hostname).</summary>
/// <remarks>Gateway API attachment (<see cref="GatewayApiListeners"/>): a TLSRoute needs a <c>TLS</c> listener with
/// <c>tls.mode: Passthrough</c> (the egress-gateway task's passthrough variant), an HTTPRoute an <c>HTTP</c> or <c>HTTPS</c>
/// listener; <c>allowedRoutes.namespaces</c> unset admits the Gateway's namespace only; a listener <c>hostname</c> must
/// intersect the route's <c>hostnames</c>. A route no listener admits is not attached (status <c>Accepted=False</c>,
/// reason <c>NotAllowedByListeners</c> or <c>NoMatchingListenerHostname</c>): the gateway drops what the first leg sends.
/// Waypoint parents (class <c>istio-waypoint</c>) are not judged. Error; a missing Gateway is an incompleteness, checked
/// only for routes with a <c>kind: Hostname</c> backend (egress).</remarks>
internal sealed class Egw513ListenerRejectsRoute : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.ListenerRejectsRoute];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.GatewayApiGateway];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.GatewayApiRoute;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not GatewayApiRoute route)
        {
            return;
        }

        foreach (var (path, parent) in RouteRefs.Parents(route))
        {
            if (!parent.IsGateway || parent.Name.Length == 0)
            {
                continue;
            }

            var ns = RouteRefs.NamespaceOf(parent.Namespace, route);
            if (context.View.Find(new ObjectKey(ResourceKind.GatewayApiGateway, ns, parent.Name)) is not GatewayApiGateway gateway)
            {
                if (RouteRefs.Backends(route).Any(b => b.Backend.IsHostname))
                {
                    context.Report(Awaited.Named(ResourceKind.GatewayApiGateway, ns, parent.Name, $"Gateway {ns}/{parent.Name}"), RuleIds.ListenerRejectsRoute, Severity.Error,
                        route, $"{path}.name", $"no Gateway {ns}/{parent.Name}: the route is attached nowhere; create it or fix the name");
                }

                continue;
            }

            if (gateway.Spec.GatewayClassName == GatewayApiGateway.WaypointClass)
            {
                continue;
            }

            var selected = GatewayApiListeners.Selected(gateway, parent);
            if (selected.Count == 0)
            {
                var which = string.Join(" ", new[] { parent.SectionName is null ? null : $"named {parent.SectionName}", parent.Port is null ? null : $"on port {parent.Port}" }.OfType<string>());
                context.Report(RuleIds.ListenerRejectsRoute, Severity.Error, route, parent.SectionName is null ? $"{path}.port" : $"{path}.sectionName",
                    $"{gateway.Display} has no listener {which}; name one of its listeners", gateway.Ref);
                continue;
            }

            var rejections = selected.Select(l => GatewayApiListeners.Rejection(l, gateway, route, context.View)).ToList();
            if (rejections.All(r => r is not null))
            {
                var (reason, fix) = rejections[0]!.Value;
                context.Report(RuleIds.ListenerRejectsRoute, Severity.Error, route, path, $"{gateway.Name}: {reason}; {fix}", gateway.Ref);
            }
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        GatewayApiGateway gw => RouteRefs.All(view).Where(r => r.Spec.ParentRefs.Any(p => p.IsGateway && p.Name == gw.Name && RouteRefs.NamespaceOf(p.Namespace, r) == gw.Namespace)),
        Namespace ns => RouteRefs.All(view).Where(r => r.Namespace == ns.Name),
        _ => [],
    };
}
