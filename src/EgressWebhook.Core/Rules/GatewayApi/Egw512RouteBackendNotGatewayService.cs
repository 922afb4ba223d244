using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.GatewayApi;

/// <summary>EGW512: the first leg of Gateway API egress (a route with a ServiceEntry parent) sends to a Service backend
/// that is not there: neither a Service of the snapshot nor the <c>&lt;gateway&gt;-istio</c> Service of a Gateway, or a
/// port that Service does not have.</summary>
/// <remarks>For a Gateway of class <c>istio</c> Istio deploys a Deployment and a Service named <c>&lt;gateway&gt;-istio</c>
/// whose ports are the Gateway's listener ports (Istio docs, "Gateway API / Automated deployment"); the first route sends
/// the entry's traffic there (<c>backendRefs: [{name: cnn-egress-gateway-istio, port: 443}]</c>). Manifests rarely hold
/// that Service, so its ports are read from the Gateway's listeners; a Service of the snapshot is read as it is. A port it
/// does not have, or a backend that does not exist, drops the traffic. Errors; a missing backend is an incompleteness, and a warning when the input holds
/// no Service at all and the name is not a <c>-istio</c> one (a partial manifest).</remarks>
internal sealed class Egw512RouteBackendNotGatewayService : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.RouteBackendNotGatewayService];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.Service, ResourceKind.GatewayApiGateway];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.GatewayApiRoute;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not GatewayApiRoute route || !RouteRefs.HasServiceEntryParent(route))
        {
            return;
        }

        foreach (var (path, backend) in RouteRefs.Backends(route))
        {
            if (!backend.IsService || backend.Name.Length == 0)
            {
                continue;
            }

            var ns = RouteRefs.NamespaceOf(backend.Namespace, route);
            if (context.View.Find(new ObjectKey(ResourceKind.Service, ns, backend.Name)) is Service svc)
            {
                if (backend.Port is { } p && svc.Spec.Ports.All(sp => sp.Port != p))
                {
                    context.Report(RuleIds.RouteBackendNotGatewayService, Severity.Error, route, $"{path}.port",
                        $"port {p} is not a port of Service {ns}/{svc.Name} ({Ports(svc.Spec.Ports.Select(sp => sp.Port))}); use one of them", svc.Ref);
                }

                continue;
            }

            var gateway = backend.Name.EndsWith(GatewayApiGateway.ServiceSuffix, StringComparison.Ordinal)
                ? context.View.Find(new ObjectKey(ResourceKind.GatewayApiGateway, ns, backend.Name[..^GatewayApiGateway.ServiceSuffix.Length])) as GatewayApiGateway
                : null;
            if (gateway is null)
            {
                // a partial manifest without Services says nothing about an ordinary Service; a <name>-istio one is the gateway's
                var severity = context.AbsenceIsEvidence(ResourceKind.Service) || backend.Name.EndsWith(GatewayApiGateway.ServiceSuffix, StringComparison.Ordinal)
                    ? Severity.Error : Severity.Warning;
                context.Report(new Awaited(ResourceKind.Service, $"Service {ns}/{backend.Name}"), RuleIds.RouteBackendNotGatewayService, severity, route,
                    $"{path}.name", $"backend {ns}/{backend.Name} is no Service and no Gateway's <name>-istio Service; send to <gateway>-istio");
                continue;
            }

            if (backend.Port is { } port && gateway.Spec.Listeners.All(l => l.Port != port))
            {
                context.Report(RuleIds.RouteBackendNotGatewayService, Severity.Error, route, $"{path}.port",
                    $"port {port} is not a port of {gateway.ServiceName} ({gateway.Display} listens on {Ports(gateway.Spec.Listeners.Select(l => l.Port))}); use one",
                    gateway.Ref);
            }
        }
    }

    private static string Ports(IEnumerable<int> ports) => string.Join(", ", ports.Distinct().Order());

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Service or GatewayApiGateway
            ? RouteRefs.All(view).Where(r => RouteRefs.HasServiceEntryParent(r) && RouteRefs.Backends(r).Any(b => RouteRefs.NamespaceOf(b.Backend.Namespace, r) == changed.Namespace))
            : [];
}
