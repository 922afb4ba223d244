using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW116: a leg bound to a Gateway routes to the Service of that Gateway's own workload: the gateway sends the
/// traffic back to itself (istio/istio#32755: the mesh leg's route to the egress gateway's Service attached to the gateway).</summary>
/// <remarks>The destination is a Kubernetes Service of the view named exactly by the host whose pods the Gateway selects
/// (<see cref="SnapshotView.Selects"/>), the same test EGW105/EGW113 use to recognise a gateway's Service. A route to
/// another gateway's Service (chaining gateways) is not a loop and is not judged.</remarks>
internal sealed class Egw116GatewayLegLoopsToGateway : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.GatewayLegLoopsToGateway];

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
            if (HostName.IsWildcard(d.Host) || !HostName.IsClusterLocal(d.Host))
            {
                continue;
            }

            // the Services named by the host first: for most destinations there is none, and the gateways are not looked at
            var services = context.View.Services(d.Host).Where(m => m.Host == d.Host).Select(m => m.Item).ToList();
            if (services.Count == 0)
            {
                continue;
            }

            foreach (var (_, gw) in context.ExistingGatewayRefs(d.Gateways))
            {
                if (services.Find(s => SnapshotView.Selects(gw, s)) is not { } own)
                {
                    continue;
                }

                context.Report(RuleIds.GatewayLegLoopsToGateway, Severity.Error, vs, ServiceRegistry.HostPath(d),
                    $"a loop: Service {own.Namespace}/{own.Name} is Gateway {gw.Namespace}/{gw.Name}'s own; route to the external host",
                    gw.Ref, own.Ref);
                break;
            }
        }
    }

    /// <summary>Legs bound to a changed Gateway; legs routing to a changed Service.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        Gateway gw => view.VirtualServicesBoundTo($"{gw.Namespace}/{gw.Name}"),
        Service svc => view.VirtualServicesRoutingTo(EgressSnapshot.HostOf(svc)).Select(m => m.Item),
        _ => [],
    };
}
