using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

// The rule as it was at 2ce787f (before the VirtualService rules shared their per-destination work and made nothing
// past the finding cap): the reference VirtualServiceSharedPathEquivalenceTests holds the rule to.
namespace EgressWebhook.Core.Tests.Rules.CrossResource.Reference;

/// <summary>EGW108: more than one VirtualService bound to <c>mesh</c> for the same host.</summary>
/// <remarks>Sidecars build one route table per host. When several mesh VirtualServices that a namespace can see
/// claim the same host, Istio keeps one of them (the oldest) and silently drops the others' rules (Istio IST0109).
/// Hosts conflict when they overlap (<see cref="HostName.Matches"/>, after short names are resolved in each
/// VirtualService's namespace) and the two export scopes share a namespace (<c>exportTo</c>, defaulting to the mesh's
/// <c>defaultVirtualServiceExportTo</c>). Binding is read from <c>spec.gateways</c> (empty means <c>mesh</c>), as Istio does.
/// An object this project generates must never do this, so for it the finding is an error.</remarks>
internal sealed class Egw108DuplicateMeshVirtualServiceBefore : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.DuplicateMeshVirtualService];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs || !IsMeshBound(vs))
        {
            return;
        }

        var severity = RuleContext.IsGenerated(vs) ? Severity.Error : Severity.Warning;
        var defaults = context.Mesh.DefaultVirtualServiceExportTo;
        var scope = ExportTo.ScopeOf(vs.Spec.ExportTo, vs.Namespace, defaults);

        // with many hosts, the other VirtualServices matching each are found at once (one look-up per host, not a query)
        var hosts = vs.Spec.Hosts.Count > 8 ? new HostSet(HostsOf(vs)) : null;
        var others = hosts is null ? null : context.View.MatchesByHost(context.View.Snapshot.VirtualServiceHosts, vs, hosts);
        for (var i = 0; i < vs.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(vs.Spec.Hosts[i], vs.Namespace);
            var matches = others is null ? context.View.VirtualServices(host) : others.GetValueOrDefault(host);
            if (matches is null || matches.TrueForAll(m => m.Item.Key == vs.Key))
            {
                // only itself (an object may list 150,000 hosts): nothing to order
                continue;
            }

            var rivals = matches
                .Select(m => m.Item)
                .Where(o => o.Key != vs.Key && IsMeshBound(o) && scope.Overlaps(ExportTo.ScopeOf(o.Spec.ExportTo, o.Namespace, defaults)))
                .DistinctBy(o => o.Key)
                .OrderBy(o => o.Ref)
                .ToList();
            if (rivals.Count == 0)
            {
                continue;
            }

            var first = rivals[0];
            var more = rivals.Count > 1 ? $" and {rivals.Count - 1} more" : "";
            context.Report(RuleIds.DuplicateMeshVirtualService, severity, vs, $"spec.hosts[{i}]",
                $"host {host} also has mesh routes in VirtualService {first.Namespace}/{first.Name}{more}; merge them into one",
                rivals.Select(o => o.Ref));
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is VirtualService vs && IsMeshBound(vs)
            ? view.MatchingAny(view.Snapshot.VirtualServiceHosts, vs, HostsOf, view.VirtualServices).Where(IsMeshBound)
            : [];

    private static HashSet<string> HostsOf(EgressObject vs) => EgressSnapshot.HostsOf((VirtualService)vs).ToHashSet(StringComparer.Ordinal);

    private static bool IsMeshBound(VirtualService vs) => GatewayRefs.Of(vs).Contains(GatewayRefs.Mesh);
}
