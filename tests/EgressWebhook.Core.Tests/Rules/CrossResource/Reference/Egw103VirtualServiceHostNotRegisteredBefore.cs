using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

// The rule as it was at 2ce787f (before the VirtualService rules shared their per-destination work and made nothing
// past the finding cap): the reference VirtualServiceSharedPathEquivalenceTests holds the rule to.
namespace EgressWebhook.Core.Tests.Rules.CrossResource.Reference;

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
internal sealed class Egw103VirtualServiceHostNotRegisteredBefore : IEgressRule
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
        var registry = Registry.Of(context, vs);
        if (Scope(context, vs, bound, egress) is { } scope)
        {
            for (var i = 0; i < vs.Spec.Hosts.Count; i++)
            {
                CheckHost(context, registry, vs, vs.Spec.Hosts[i], i, -1, -1, scope, egress);
            }
        }

        // a set only for a long host list: a short one is scanned
        var written = vs.Spec.Tls.Count == 0 || vs.Spec.Hosts.Count <= 8 ? null : vs.Spec.Hosts.ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < vs.Spec.Tls.Count; i++)
        {
            var rule = vs.Spec.Tls[i];
            for (var j = 0; j < rule.Match.Count; j++)
            {
                var match = rule.Match[j];
                var gateways = match.Gateways.Count > 0 ? match.Gateways.Select(g => GatewayRefs.Resolve(g, vs.Namespace)).ToList() : bound;
                var matchEgress = ReferenceEquals(gateways, bound) ? egress : EgressGateways(context, vs, gateways);
                if (Scope(context, vs, gateways, matchEgress) is not { } matchScope)
                {
                    continue;
                }

                for (var k = 0; k < match.SniHosts.Count; k++)
                {
                    if (!(written?.Contains(match.SniHosts[k]) ?? vs.Spec.Hosts.Contains(match.SniHosts[k])))
                    {
                        CheckHost(context, registry, vs, match.SniHosts[k], i, j, k, matchScope, matchEgress);
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

    /// <summary>Reports <paramref name="written"/> when it intersects no visible registry host. It is
    /// <c>spec.hosts[i]</c>, or <c>spec.tls[i].match[j].sniHosts[k]</c> when <paramref name="j"/> is not negative: the
    /// path is formatted only for a finding that is kept.</summary>
    private static void CheckHost(RuleContext context, Registry registry, VirtualService vs, string written, int i, int j, int k, LegScope scope, List<Gateway> egress)
    {
        var host = HostName.Resolve(written, vs.Namespace);
        if (host.Length == 0 || HostName.IsClusterLocal(host) || ServiceRegistry.IsIpOrCidr(host) || registry.Intersects(context, host, scope))
        {
            return;
        }

        var severity = !HostName.IsWildcard(host) && scope.IsRegistryOnly ? Severity.Error : Severity.Warning;

        // past the cap a finding is only counted, under the list its path is in: neither its path nor its message is
        // read (an object may list 150,000 such hosts)
        if (context.IsCapped(RuleIds.VirtualServiceHostNotRegistered, vs))
        {
            context.Report(Awaited.RegistryObjectFor(host), RuleIds.VirtualServiceHostNotRegistered, severity, vs, j < 0 ? "spec.hosts" : "spec.tls", "");
            return;
        }

        var where = scope.SidecarScoped ? "mesh" : $"Gateway {egress[0].Namespace}/{egress[0].Name}";
        var path = j < 0 ? $"spec.hosts[{i}]" : $"spec.tls[{i}].match[{j}].sniHosts[{k}]";
        context.Report(Awaited.RegistryObjectFor(host), RuleIds.VirtualServiceHostNotRegistered, severity, vs, path,
            $"host {host} (bound to {where}) matches no ServiceEntry/Service visible to {scope.ClientNamespace}; add a ServiceEntry",
            egress.Select(g => g.Ref));
    }

    /// <summary>The registry's ServiceEntries and Services matching each host the VirtualService lists, found at once
    /// when it lists more than the registry has entries (<see cref="SnapshotView.MatchesByHost"/>); otherwise, and for a
    /// host not among them, the view is asked per host. Either way the same matches are judged.</summary>
    private sealed class Registry
    {
        private static readonly Registry PerHost = new(null, null, null);
        private readonly HostSet? _hosts;
        private readonly Dictionary<string, List<HostMatch<ServiceEntry>>>? _entries;
        private readonly Dictionary<string, List<HostMatch<Service>>>? _services;

        private Registry(HostSet? hosts, Dictionary<string, List<HostMatch<ServiceEntry>>>? entries, Dictionary<string, List<HostMatch<Service>>>? services)
        {
            _hosts = hosts;
            _entries = entries;
            _services = services;
        }

        public static Registry Of(RuleContext context, VirtualService vs)
        {
            var count = vs.Spec.Hosts.Count;
            foreach (var rule in vs.Spec.Tls)
            {
                foreach (var match in rule.Match)
                {
                    count += match.SniHosts.Count;
                }
            }

            if (count <= 8)
            {
                return PerHost;
            }

            var written = new HashSet<string>(StringComparer.Ordinal);
            foreach (var h in vs.Spec.Hosts)
            {
                written.Add(HostName.Resolve(h, vs.Namespace));
            }

            foreach (var rule in vs.Spec.Tls)
            {
                foreach (var match in rule.Match)
                {
                    foreach (var h in match.SniHosts)
                    {
                        written.Add(HostName.Resolve(h, vs.Namespace));
                    }
                }
            }

            var hosts = new HostSet(written);
            var view = context.View;
            var entries = view.MatchesByHost(view.Snapshot.ServiceEntryHosts, vs, hosts);
            var services = view.MatchesByHost(view.Snapshot.ServiceHosts, vs, hosts);
            return entries is null && services is null ? PerHost : new Registry(hosts, entries, services);
        }

        /// <summary><see cref="ServiceRegistry.IntersectsRegistry"/>.</summary>
        public bool Intersects(RuleContext context, string host, LegScope scope)
        {
            if (_hosts is null || !_hosts.Contains(host))
            {
                return context.IntersectsRegistry(host, scope);
            }

            if (_entries is null ? context.VisibleServiceEntries(host, scope.ClientNamespace, scope.SidecarScoped).Count > 0 : AnyVisibleEntry(context, host, scope))
            {
                return true;
            }

            return _services is null ? context.VisibleServices(host, scope.ClientNamespace, scope.SidecarScoped).Count > 0 : AnyVisibleService(context, host, scope);
        }

        private bool AnyVisibleEntry(RuleContext context, string host, LegScope scope)
        {
            if (_entries!.TryGetValue(host, out var matches))
            {
                foreach (var m in matches)
                {
                    if (context.IsVisibleEntry(m, scope.ClientNamespace, scope.SidecarScoped))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private bool AnyVisibleService(RuleContext context, string host, LegScope scope)
        {
            if (_services!.TryGetValue(host, out var matches))
            {
                foreach (var m in matches)
                {
                    if (context.IsVisibleService(m, scope.ClientNamespace, scope.SidecarScoped))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
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

    private static List<Gateway> EgressGateways(RuleContext context, VirtualService vs, IReadOnlyList<string> gateways)
    {
        var result = new List<Gateway>();
        for (var i = 0; i < gateways.Count; i++)
        {
            if (context.View.Gateway(gateways[i]) is { } g && context.IsEgressGateway(g, vs))
            {
                result.Add(g);
            }
        }

        return result;
    }
}
