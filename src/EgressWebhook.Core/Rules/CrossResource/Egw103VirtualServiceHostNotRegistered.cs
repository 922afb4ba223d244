using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW103: a VirtualService bound to <c>mesh</c> or to an egress Gateway has a non-cluster-local
/// <c>hosts[]</c> or <c>tls[].match[].sniHosts[]</c> entry that intersects no visible ServiceEntry host or Service.</summary>
/// <remarks>
/// Intersection (<see cref="HostName.Matches"/>), not coverage: <c>*.wikipedia.org</c> with a ServiceEntry for
/// <c>www.wikipedia.org</c> is fine. Cluster-local hosts (<c>*.svc.cluster.local</c>, short names) and IP addresses
/// are not judged. Bound to <c>mesh</c>, the VirtualService's namespace sees the registry through exportTo and its
/// Sidecar, and its outbound mode sets the severity; bound only to Gateways, exportTo alone and the mesh-wide mode.
/// "Egress Gateway" is <see cref="ServiceRegistry.IsEgressGateway"/>: selector <c>istio: egressgateway</c>, a selected
/// Service that is the egress gateway's, or a rule of this VirtualService bound to it that routes out of the cluster.
/// Ingress VirtualServices (public host names routed to in-cluster Services) are therefore not judged.
/// Severity: warning (the sidecar treats the host as unknown: PassthroughCluster under ALLOW_ANY); error for an exact
/// host under REGISTRY_ONLY (BlackHoleCluster). An sniHost equal to one of <c>hosts[]</c> is reported once, there.
/// </remarks>
internal sealed class Egw103VirtualServiceHostNotRegistered : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.VirtualServiceHostNotRegistered];

    /// <summary>A VirtualService host no registry object declares.</summary>
    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.ServiceEntry, ResourceKind.Service];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        var bound = GatewayRefs.Of(vs);
        var egress = EgressGateways(context, vs, bound);
        if (Scope(context, vs, bound, egress) is { } scope)
        {
            for (var i = 0; i < vs.Spec.Hosts.Count; i++)
            {
                CheckHost(context, vs, vs.Spec.Hosts[i], $"spec.hosts[{i}]", scope, egress);
            }
        }

        var written = vs.Spec.Tls.Count == 0 ? null : vs.Spec.Hosts.ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < vs.Spec.Tls.Count; i++)
        {
            var rule = vs.Spec.Tls[i];
            for (var j = 0; j < rule.Match.Count; j++)
            {
                var match = rule.Match[j];
                var gateways = match.Gateways.Count > 0 ? match.Gateways.Select(g => GatewayRefs.Resolve(g, vs.Namespace)).ToList() : bound;
                var matchEgress = EgressGateways(context, vs, gateways);
                if (Scope(context, vs, gateways, matchEgress) is not { } matchScope)
                {
                    continue;
                }

                for (var k = 0; k < match.SniHosts.Count; k++)
                {
                    if (!written!.Contains(match.SniHosts[k]))
                    {
                        CheckHost(context, vs, match.SniHosts[k], $"spec.tls[{i}].match[{j}].sniHosts[{k}]", matchScope, matchEgress);
                    }
                }
            }
        }
    }

    /// <summary>VirtualServices with a host the changed ServiceEntry/Service intersects; those bound to a changed Gateway.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        Gateway gw => view.VirtualServicesBoundTo($"{gw.Namespace}/{gw.Name}"),
        _ => ServiceRegistry.VirtualServicesWithHostOfRegistryObject(changed, view),
    };

    private static void CheckHost(RuleContext context, VirtualService vs, string written, string path, LegScope scope, List<Gateway> egress)
    {
        var host = HostName.Resolve(written, vs.Namespace);
        if (host.Length == 0 || HostName.IsClusterLocal(host) || ServiceRegistry.IsIpOrCidr(host) || context.IntersectsRegistry(host, scope))
        {
            return;
        }

        var severity = !HostName.IsWildcard(host) && scope.IsRegistryOnly ? Severity.Error : Severity.Warning;
        var where = scope.SidecarScoped ? "mesh" : $"Gateway {egress[0].Namespace}/{egress[0].Name}";
        context.Report(Awaited.RegistryObjectFor(host), RuleIds.VirtualServiceHostNotRegistered, severity, vs, path,
            $"host {host} (bound to {where}) matches no ServiceEntry/Service visible to {scope.ClientNamespace}; add a ServiceEntry",
            egress.Select(g => g.Ref));
    }

    /// <summary>The scope the hosts are judged in: the sidecars' when bound to mesh, the gateways' when bound only to
    /// egress gateways, none otherwise.</summary>
    private static LegScope? Scope(RuleContext context, VirtualService vs, IReadOnlyList<string> gateways, List<Gateway> egress)
    {
        if (gateways.Contains(GatewayRefs.Mesh))
        {
            return context.ScopeOf(vs, [GatewayRefs.Mesh]);
        }

        // bound only to Gateways: judged from the workload of the first egress gateway among them
        return egress.Count > 0 ? new LegScope(context.GatewayNamespace(egress[0]), false, context.MeshOutboundPolicy, egress[0]) : null;
    }

    private static List<Gateway> EgressGateways(RuleContext context, VirtualService vs, IReadOnlyList<string> gateways) =>
        context.GatewaysOf(gateways).Where(g => context.IsEgressGateway(g, vs)).ToList();
}
