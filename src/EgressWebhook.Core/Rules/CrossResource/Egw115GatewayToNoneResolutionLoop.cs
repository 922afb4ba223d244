using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW115: a VirtualService leg bound to an egress Gateway routes to a ServiceEntry host whose resolution is
/// NONE (or unset) and that has no endpoints: the gateway forwards to the connection's original destination, which
/// is the gateway itself, in a loop (Istio's egress gateway task: "DNS resolution must be used").</summary>
/// <remarks>The host is resolved from the gateway's view (exportTo only, exact entries before wildcards). Only when
/// every resolved target is such a ServiceEntry is it reported: a Kubernetes Service, endpoints or a
/// <c>workloadSelector</c> give the cluster real endpoints. "Egress Gateway" is <see cref="ServiceRegistry.IsEgressGateway"/>;
/// a missing Gateway is EGW104's.</remarks>
internal sealed class Egw115GatewayToNoneResolutionLoop : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.GatewayToNoneResolutionLoop];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        var destinations = context.DestinationsOf(vs);
        for (var i = 0; i < destinations.Count; i++)
        {
            var d = destinations[i];
            if (FirstEgressGateway(context, vs, context.ExistingGatewayRefs(d.Gateways)) is not { } gateway)
            {
                continue;
            }

            var targets = context.ResolveDestination(d.Host, context.GatewayScope(gateway));
            if (targets.Services.Count > 0 || targets.ServiceEntries.Count == 0 || !targets.ServiceEntries.All(LoopsAtGateway))
            {
                continue;
            }

            var se = targets.ServiceEntries[0];
            context.Report(RuleIds.GatewayToNoneResolutionLoop, Severity.Error, vs, ServiceRegistry.HostPath(d),
                $"{se.Ref} has resolution NONE and no endpoints: the gateway forwards to itself; use DNS",
                [se.Ref, gateway.Ref]);
        }
    }

    private static Gateway? FirstEgressGateway(RuleContext context, VirtualService vs, IReadOnlyList<(string Ref, Gateway Gateway)> gateways)
    {
        for (var i = 0; i < gateways.Count; i++)
        {
            if (context.IsEgressGateway(gateways[i].Gateway, vs))
            {
                return gateways[i].Gateway;
            }
        }

        return null;
    }

    /// <summary>VirtualServices routing to a host of the changed ServiceEntry; those bound to a changed Gateway.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        Gateway gw => view.VirtualServicesBoundTo($"{gw.Namespace}/{gw.Name}"),
        _ => ServiceRegistry.VirtualServicesRoutingToRegistryObject(changed, view),
    };

    /// <summary>Whether a gateway forwarding to <paramref name="se"/> sends the traffic to its original destination, itself
    /// (resolution NONE, no endpoints, no workloadSelector); shared with the tracer.</summary>
    internal static bool LoopsAtGateway(ServiceEntry se) =>
        se.Spec.EffectiveResolution == Resolutions.None && se.Spec.Endpoints.Count == 0 &&
        se.Spec.WorkloadSelector is null or { Labels.Count: 0 };
}
