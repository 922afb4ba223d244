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
public sealed class Egw113IncompleteEgressChain : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.IncompleteEgressChain];

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
                        foreach (var m in GatewayChain.RoutingToWorkloadOf(view, gw, EgressSnapshot.HostsOf(vs)))
                        {
                            yield return m;
                        }
                    }
                }

                // gateway legs that rely on this VirtualService as their mesh leg
                foreach (var host in EgressSnapshot.DestinationHostsOf(vs))
                {
                    foreach (var target in GatewayChain.GatewayTargets(view, host))
                    {
                        foreach (var (w, _) in EgressSnapshot.HostsOf(vs).SelectMany(target.LegsFor))
                        {
                            yield return w;
                        }
                    }
                }

                break;
            case Gateway gw:
                foreach (var v in GatewayChain.BoundTo(view, gw).Concat(GatewayChain.RoutingToWorkloadOf(view, gw, EgressSnapshot.ServerHostsOf(gw))))
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
        foreach (var rule in rules)
        {
            if (!rule.AppliesTo(GatewayRefs.Mesh))
            {
                continue;
            }

            var hosts = rule.HostsFor(vs, GatewayRefs.Mesh);
            foreach (var d in rule.Destinations)
            {
                foreach (var target in GatewayChain.GatewayTargets(context.View, d.Host))
                {
                    // a VirtualService for the gateway's own host is not an egress leg for it
                    var missing = hosts.FirstOrDefault(h => h != d.Host && !target.LegsFor(h).Any(l => RoutesOnward(context, l.Leg, l.GatewayRef, h)));
                    if (missing is null)
                    {
                        continue;
                    }

                    var gateways = string.Join(", ", target.Gateways.Select(GatewayChain.RefOf));
                    context.Report(new Awaited(ResourceKind.VirtualService, $"the gateway leg for {missing}"), RuleIds.IncompleteEgressChain, Severity.Error, vs, d.Path,
                        $"{missing} dies at Gateway {gateways}: no VirtualService routes it on; add the gateway leg",
                        target.Gateways.Select(g => g.Ref).Append(target.Service.Ref));
                    break;
                }
            }
        }
    }

    /// <summary>A rule bound to a Gateway forwards hosts outside the cluster: some sidecar rule must send them to that gateway.</summary>
    private static void CheckGatewayLeg(VirtualService vs, IReadOnlyList<RouteRule> rules, RuleContext context)
    {
        foreach (var rule in rules)
        {
            if (!rule.Destinations.Any(d => !HostName.IsClusterLocal(d.Host)))
            {
                continue;
            }

            foreach (var gwRef in rule.Gateways)
            {
                if (gwRef == GatewayRefs.Mesh || context.View.Gateway(gwRef) is not { } gw)
                {
                    continue;
                }

                var services = context.View.ServicesSelecting(gw.Spec.Selector);
                if (services.Count == 0)
                {
                    continue;
                }

                var missing = rule.HostsFor(vs, gwRef).FirstOrDefault(h => !services.Exists(s => MeshSends(context, s, h)));
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

    /// <summary>Whether <paramref name="leg"/>, bound to <paramref name="gwRef"/>, has a rule there that takes <paramref name="host"/> somewhere.</summary>
    private static bool RoutesOnward(RuleContext context, VirtualService leg, string gwRef, string host)
    {
        foreach (var rule in context.RouteRulesOf(leg))
        {
            if (rule.AppliesTo(gwRef) && rule.Destinations.Count > 0 && rule.HostsFor(leg, gwRef).Any(h => HostName.Matches(h, host)))
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
            foreach (var rule in context.RouteRulesOf(vs))
            {
                if (rule.AppliesTo(GatewayRefs.Mesh) && rule.Destinations.Any(d => EgressSnapshot.IsHostOf(d.Host, service)) &&
                    rule.HostsFor(vs, GatewayRefs.Mesh).Any(h => HostName.Matches(h, host)))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
