using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW101: a route or mirror destination host (<c>http/tls/tcp[].route[]</c>, <c>http[].mirror</c>,
/// <c>http[].mirrors[]</c>) resolves to no ServiceEntry or Service the client can see (Istio IST0101, Kiali KIA1101).</summary>
/// <remarks>A leg bound to <c>mesh</c> runs in the sidecars of the VirtualService's namespace: exportTo and the
/// namespace's Sidecar egress hosts decide visibility, and its outbound mode the severity. A leg bound to a Gateway runs
/// in the gateway workload, in its own namespace (<see cref="RuleContext.GatewayNamespace"/>), which no Sidecar scopes:
/// exportTo to that namespace alone decides, and a destination it cannot see is an error whatever the outbound mode:
/// the gateway has no passthrough for a route, the route's cluster is missing (503 NC; istio/istio.io#7615). A leg bound
/// to both is judged from each.
/// Under REGISTRY_ONLY the traffic goes to BlackHoleCluster (error); under ALLOW_ANY to PassthroughCluster (warning).
/// A cluster-local host in an input (not the whole cluster) without any Service is only a warning: the input does not include the Services
/// (an offline check of Istio manifests), so their absence proves nothing.</remarks>
internal sealed class Egw101DestinationHostNotRegistered : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.DestinationHostNotRegistered];

    /// <summary>A destination host no registry object declares.</summary>
    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.ServiceEntry, ResourceKind.Service];

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
            var scopes = context.ScopesOf(vs, d.Gateways);
            for (var s = 0; s < scopes.Count; s++)
            {
                var scope = scopes[s];
                if (Check(vs, d, scope, context))
                {
                    break;
                }
            }
        }
    }

    /// <summary>Reports <paramref name="d"/> when <paramref name="scope"/> cannot resolve it; whether it did.</summary>
    private static bool Check(VirtualService vs, DestinationRef d, LegScope scope, RuleContext context)
    {
        var targets = context.ResolveDestination(d.Host, scope);
        if (targets.Found)
        {
            return false;
        }

        // a cluster-local host in an input without any Service (not the whole cluster): the Services are simply not part of it
        // a sidecar sends what it does not know to BlackHoleCluster or PassthroughCluster (its outbound mode); a gateway has
        // no such fallback for a route: the route's cluster does not exist there and it answers 503 (NC) whatever the mode
        var severity = HostName.IsClusterLocal(d.Host) && !context.AbsenceIsEvidence(ResourceKind.Service) ? Severity.Warning
            : scope.SidecarScoped ? scope.ErrorIfRegistryOnly : Severity.Error;

        // past the cap a finding is only counted, under its list: no path or message is made (a VirtualService may
        // have 150,000 destinations); it awaits a registry object when nothing hides one (no related object below)
        if (context.IsCapped(RuleIds.DestinationHostNotRegistered, vs))
        {
            var hidden = targets.HiddenBySidecar.Count > 0 || targets.HiddenByExportTo.Count > 0 || targets.HiddenServices.Count > 0;
            var awaits = hidden ? null
                : context.CountsOnly(RuleIds.DestinationHostNotRegistered, severity, vs) ? RuleContext.CountedAwaits : Awaited.RegistryObjectFor(d.Host);
            context.Report(awaits, RuleIds.DestinationHostNotRegistered, severity, vs, d.ListPath, "");
            return true;
        }

        var what = d.IsMirror ? "mirror " : "";
        var ns = scope.ClientNamespace;
        string message;
        IEnumerable<ObjectRef> related;
        if (targets.HiddenBySidecar.Count > 0)
        {
            var sidecar = context.ScopingSidecar(ns);
            var se = targets.HiddenBySidecar[0];
            message = $"{what}{d.Host}: {(sidecar is null ? "Sidecar" : $"Sidecar {sidecar.Namespace}")} egress hosts exclude ServiceEntry {se.Namespace}/{se.Name}; " +
                      $"add \"{se.Namespace}/{d.Host}\"";
            related = sidecar is null ? [se.Ref] : [se.Ref, sidecar.Ref];
        }
        else if (targets.HiddenByExportTo.Count > 0)
        {
            var se = targets.HiddenByExportTo[0];
            var capped = context.VisibilityOf(se) != ServiceEntryVisibilities.Public && ExportTo.IsVisible(se.Spec.ExportTo, se.Namespace, ns, context.Mesh.DefaultServiceExportTo);
            message = capped
                ? $"{what}{d.Host}: serviceEntryVisibility makes {se.Ref} {context.VisibilityOf(se)}, hidden from {ns}; publish it with a policy"
                : scope.Gateway is not null
                    ? $"{what}{d.Host}: {se.Ref} is hidden from the gateway in {ns}; add {ns} to its exportTo"
                    : $"{what}{d.Host}: {se.Ref} is not exported to {ns}; add {ns} to its exportTo";
            related = scope.Gateway is { } g ? [se.Ref, g.Ref] : [se.Ref];
        }
        else if (targets.HiddenServices.Count > 0)
        {
            var svc = targets.HiddenServices[0];
            message = $"{what}{d.Host}: {svc.Ref} is hidden from {ns} (exportTo annotation or Sidecar); make it visible";
            related = [svc.Ref];
        }
        else
        {
            var fix = HostName.IsClusterLocal(d.Host) ? "fix the host or create the Service" : "add a ServiceEntry";
            message = scope.SidecarScoped
                ? $"{what}{d.Host}: no ServiceEntry or Service visible to {ns} ({scope.FallbackCluster}); {fix}"
                : $"{what}{d.Host}: no ServiceEntry or Service visible to the gateway in {ns} (503 NC); {fix}";
            related = [];
        }

        context.Report(related.Any() ? null : Awaited.RegistryObjectFor(d.Host), RuleIds.DestinationHostNotRegistered, severity, vs, ServiceRegistry.HostPath(d), message, related);
        return true;
    }

    /// <summary>VirtualServices routing to a host the changed ServiceEntry or Service declares.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        ServiceRegistry.VirtualServicesRoutingToRegistryObject(changed, view);
}
