using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW113: an egress chain with one leg missing.</summary>
/// <remarks>Routing through an egress gateway takes two legs: a sidecar (<c>mesh</c>) rule that sends host H to the
/// gateway's Service, and a rule bound to a Gateway on that workload that forwards H onward. Without the second
/// leg the gateway has no route for H and the connection dies there (error, on the mesh rule). Without the first,
/// the gateway leg is dead configuration and the traffic leaves the sidecars directly, bypassing the gateway
/// (warning, on the gateway rule). A destination is a gateway's Service when it is a Kubernetes Service of the
/// snapshot whose selector contains some Gateway's selector (the Gateway picks its pods); a host the snapshot holds
/// no such Service for is not judged, so configurations checked without the gateway's Service stay silent. The
/// gateway leg is judged only when it forwards to a host outside the cluster and its Gateway's Service is known:
/// an ingress gateway forwarding to in-cluster services has no mesh leg by design.</remarks>
internal sealed class Egw113IncompleteEgressChain : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.IncompleteEgressChain];

    /// <summary>A mesh leg whose gateway leg (a VirtualService) was created a moment ago, or the other way round.</summary>
    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.VirtualService];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        var rules = context.RouteRulesOf(vs);
        CheckMeshLeg(vs, rules, context);
        CheckGatewayLeg(vs, rules, context);
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view)
    {
        switch (changed)
        {
            case VirtualService vs:
                // mesh legs that rely on this VirtualService as their gateway leg
                foreach (var gwRef in EgressSnapshot.BoundGatewayRefs(vs).Distinct(StringComparer.Ordinal))
                {
                    if (view.Gateway(gwRef) is { } gw)
                    {
                        foreach (var m in GatewayChain.RoutingToWorkloadOfHostsOf(view, gw, vs))
                        {
                            yield return m;
                        }
                    }
                }

                // gateway legs that rely on this VirtualService as their mesh leg: those sharing a host with it (found once,
                // not once per host: a VirtualService may list 150,000) bound to the gateway its destination is
                List<VirtualService>? sharing = null;
                foreach (var host in EgressSnapshot.DestinationHostsOf(vs))
                {
                    foreach (var target in GatewayChain.GatewayTargets(view, host))
                    {
                        foreach (var w in target.LegsAmong(sharing ??= GatewayChain.SharingHostsWith(view, vs)))
                        {
                            yield return w;
                        }
                    }
                }

                break;
            case Gateway gw:
                foreach (var v in GatewayChain.BoundTo(view, gw).Concat(GatewayChain.RoutingToWorkloadOfServerHosts(view, gw)))
                {
                    yield return v;
                }

                break;
            case Service svc:
                foreach (var m in view.VirtualServicesRoutingTo(EgressSnapshot.HostOf(svc)))
                {
                    yield return m.Item;
                }

                foreach (var w in view.GatewaysSelectingPodsOf(svc).SelectMany(g => GatewayChain.BoundTo(view, g)))
                {
                    yield return w;
                }

                break;
        }
    }

    /// <summary>A sidecar rule sends a host to a gateway's Service: some rule bound to a Gateway on that workload must take it on.</summary>
    private static void CheckMeshLeg(VirtualService vs, IReadOnlyList<RouteRule> rules, RuleContext context)
    {
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            if (!rule.AppliesTo(GatewayRefs.Mesh))
            {
                continue;
            }

            var hosts = rule.HostsFor(vs, GatewayRefs.Mesh);
            for (var k = 0; k < rule.Destinations.Count; k++)
            {
                var d = rule.Destinations[k];
                var targets = GatewayChain.GatewayTargets(context.View, d.Host);
                if (targets.Count == 0)
                {
                    CheckSelectorConflict(vs, d, hosts, context);
                }

                foreach (var target in targets)
                {
                    // a VirtualService for the gateway's own host is not an egress leg for it; a gateway loads only the legs
                    // exported to the namespace it runs in (RuleContext.GatewayNamespace)
                    string? missing = null;
                    (VirtualService Leg, string Namespace)? unexported = null;
                    foreach (var h in hosts)
                    {
                        if (h == d.Host)
                        {
                            continue;
                        }

                        var onward = target.LegsFor(h).Where(l => RoutesOnward(context, l.Leg, l.GatewayRef, h))
                            .Select(l => (l.Leg, Namespace: context.GatewayNamespace(context.View.Gateway(l.GatewayRef)!))).ToList();
                        if (onward.Exists(l => context.IsExportedTo(l.Leg, l.Namespace)))
                        {
                            continue;
                        }

                        missing = h;
                        unexported = onward.Count > 0 ? onward[0] : null;
                        break;
                    }

                    if (missing is null)
                    {
                        continue;
                    }

                    var gateways = string.Join(", ", target.Gateways.Select(GatewayChain.RefOf));
                    var related = target.Gateways.Select(g => g.Ref).Append(target.Service.Ref);
                    if (unexported is null)
                    {
                        context.Report(new Awaited(ResourceKind.VirtualService, $"the gateway leg for {missing}"), RuleIds.IncompleteEgressChain, Severity.Error, vs, d.Path,
                            $"{missing} dies at Gateway {gateways}: no VirtualService routes it on; add the gateway leg", related);
                    }
                    else
                    {
                        var (leg, g) = unexported.Value;
                        context.Report(RuleIds.IncompleteEgressChain, Severity.Error, vs, d.Path,
                            $"{missing} dies at the gateway: {leg.Namespace}/{leg.Name} is not exported to {g}; add {g} to its exportTo",
                            related.Append(leg.Ref));
                    }

                    break;
                }
            }
        }
    }

    /// <summary>The mesh leg sends the hosts to a Service no Gateway selects, while a Gateway-bound leg forwards one of them
    /// through a Gateway whose selector sets a label of that Service's selector to another value: that Gateway can never
    /// bind the pods the traffic goes to, so the chain is broken there.</summary>
    private static void CheckSelectorConflict(VirtualService vs, DestinationRef d, IReadOnlyList<string> hosts, RuleContext context)
    {
        if (HostName.IsWildcard(d.Host))
        {
            return;
        }

        // the distinct gateway references of each VirtualService read, computed once (not once per Service and host)
        var boundRefs = new Dictionary<VirtualService, List<string>>(ReferenceEqualityComparer.Instance);
        foreach (var match in context.View.Services(d.Host))
        {
            var service = match.Item;
            if (match.Host != d.Host || service.Spec.Selector.Count == 0)
            {
                continue;
            }

            foreach (var h in hosts)
            {
                foreach (var m in context.View.VirtualServices(h).DistinctBy(m => m.Item.Key))
                {
                    if (!boundRefs.TryGetValue(m.Item, out var refs))
                    {
                        boundRefs[m.Item] = refs = EgressSnapshot.BoundGatewayRefs(m.Item).Distinct(StringComparer.Ordinal).ToList();
                    }

                    foreach (var gwRef in refs)
                    {
                        if (gwRef == GatewayRefs.Mesh || context.View.Gateway(gwRef) is not { } gw || Conflict(gw, service) is not { } key ||
                            !RoutesOnward(context, m.Item, gwRef, h))
                        {
                            continue;
                        }

                        context.Report(RuleIds.IncompleteEgressChain, Severity.Error, vs, d.Path,
                            $"{h}: Gateway {gwRef} has {key}={gw.Spec.Selector[key]}, the pods of {service.Namespace}/{service.Name} " +
                            $"{key}={service.Spec.Selector[key]}; fix its selector",
                            gw.Ref, service.Ref, m.Item.Ref);
                        return;
                    }
                }
            }
        }
    }

    /// <summary>A label key both selectors set, to different values: no pod can carry both.</summary>
    private static string? Conflict(Gateway gateway, Service service)
    {
        foreach (var (k, v) in gateway.Spec.Selector.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (service.Spec.Selector.TryGetValue(k, out var other) && other != v)
            {
                return k;
            }
        }

        return null;
    }

    /// <summary>A rule bound to a Gateway forwards hosts outside the cluster: some sidecar rule must send them to that gateway.</summary>
    private static void CheckGatewayLeg(VirtualService vs, IReadOnlyList<RouteRule> rules, RuleContext context)
    {
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            if (!AnyOutsideCluster(rule.Destinations))
            {
                continue;
            }

            // the existing Gateways once per list: the rules of a VirtualService share theirs
            foreach (var (gwRef, gw) in context.ExistingGatewayRefs(rule.Gateways))
            {
                var services = context.View.ServicesSelecting(gw.Spec.Selector);
                if (services.Count == 0)
                {
                    continue;
                }

                var missing = FirstNotSent(context, rule.HostsFor(vs, gwRef), services);
                if (missing is null)
                {
                    continue;
                }

                context.Report(new Awaited(ResourceKind.VirtualService, $"the mesh leg for {missing}"), RuleIds.IncompleteEgressChain, Severity.Warning, vs, rule.Path,
                    $"Gateway {gwRef} forwards {missing} but no mesh rule sends it to the gateway; add the mesh leg",
                    services.Select(s => s.Ref).Append(gw.Ref));
            }
        }
    }

    private static bool AnyOutsideCluster(IReadOnlyList<DestinationRef> destinations)
    {
        for (var i = 0; i < destinations.Count; i++)
        {
            if (!HostName.IsClusterLocal(destinations[i].Host))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first of <paramref name="hosts"/> that no sidecar rule sends to one of <paramref name="services"/>, or null.</summary>
    private static string? FirstNotSent(RuleContext context, IReadOnlyList<string> hosts, List<Service> services)
    {
        for (var i = 0; i < hosts.Count; i++)
        {
            var sent = false;
            for (var j = 0; j < services.Count && !sent; j++)
            {
                sent = MeshSends(context, services[j], hosts[i]);
            }

            if (!sent)
            {
                return hosts[i];
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="leg"/>, bound to <paramref name="gwRef"/>, has a rule there that takes <paramref name="host"/> somewhere.</summary>
    private static bool RoutesOnward(RuleContext context, VirtualService leg, string gwRef, string host)
    {
        var legRules = context.RouteRulesOf(leg);
        for (var r = 0; r < legRules.Count; r++)
        {
            var rule = legRules[r];
            if (rule.AppliesTo(gwRef) && rule.Destinations.Count > 0 && AnyMatches(rule.HostsFor(leg, gwRef), host))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a sidecar rule sends <paramref name="host"/> to <paramref name="service"/>.</summary>
    private static bool MeshSends(RuleContext context, Service service, string host)
    {
        foreach (var vs in GatewayChain.BoundWithHost(context.View, GatewayRefs.Mesh, host))
        {
            var vsRules = context.RouteRulesOf(vs);
            for (var r = 0; r < vsRules.Count; r++)
            {
                var rule = vsRules[r];
                if (rule.AppliesTo(GatewayRefs.Mesh) && AnyHostOf(rule.Destinations, service) &&
                    AnyMatches(rule.HostsFor(vs, GatewayRefs.Mesh), host))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool AnyHostOf(IReadOnlyList<DestinationRef> destinations, Service service)
    {
        for (var i = 0; i < destinations.Count; i++)
        {
            if (EgressSnapshot.IsHostOf(destinations[i].Host, service))
            {
                return true;
            }
        }

        return false;
    }

    private static bool AnyMatches(IReadOnlyList<string> hosts, string host)
    {
        for (var i = 0; i < hosts.Count; i++)
        {
            if (HostName.Matches(hosts[i], host))
            {
                return true;
            }
        }

        return false;
    }
}
