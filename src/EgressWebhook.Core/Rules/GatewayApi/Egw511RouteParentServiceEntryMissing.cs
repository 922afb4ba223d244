using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.GatewayApi;

/// <summary>EGW511: a Gateway API route's <c>parentRefs</c> names a ServiceEntry that does not exist.</summary>
/// <remarks>Istio programs a route with a ServiceEntry parent (<c>group: networking.istio.io, kind: ServiceEntry</c>) into
/// the sidecars for that entry's hosts (Istio's egress-gateway task, Gateway API tab). With no such entry the route
/// attaches to nothing and the traffic it was meant to send to the egress gateway leaves directly (or fails under
/// REGISTRY_ONLY). The usual slip is the entry's host written where its name is meant: the message names the entry of
/// that host. Error; an incompleteness (the entry may come later in the apply).</remarks>
internal sealed class Egw511RouteParentServiceEntryMissing : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.RouteParentServiceEntryMissing];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.ServiceEntry];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.GatewayApiRoute;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not GatewayApiRoute route)
        {
            return;
        }

        foreach (var (path, parent) in RouteRefs.Parents(route))
        {
            var ns = RouteRefs.NamespaceOf(parent.Namespace, route);
            if (!parent.IsServiceEntry || parent.Name.Length == 0 || context.View.Find(new ObjectKey(ResourceKind.ServiceEntry, ns, parent.Name)) is not null)
            {
                continue;
            }

            var meant = context.View.ServiceEntries(parent.Name).Where(m => m.Item.Namespace == ns && m.Host == parent.Name)
                .Select(m => m.Item).OrderBy(e => e.Name, StringComparer.Ordinal).FirstOrDefault();
            var fix = meant is null ? "create it or fix the name" : $"use its name {meant.Name} (host {parent.Name})";
            context.Report(Awaited.Named(ResourceKind.ServiceEntry, ns, parent.Name, $"ServiceEntry {ns}/{parent.Name}"), RuleIds.RouteParentServiceEntryMissing, Severity.Error,
                route, $"{path}.name", $"no ServiceEntry {ns}/{parent.Name}: the route intercepts nothing; {fix}", meant is null ? [] : [meant.Ref]);
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is ServiceEntry se
            ? RouteRefs.All(view).Where(r => r.Spec.ParentRefs.Any(p => p.IsServiceEntry && RouteRefs.NamespaceOf(p.Namespace, r) == se.Namespace
                                                                       && (p.Name == se.Name || se.Spec.Hosts.Contains(p.Name))))
            : [];
}
