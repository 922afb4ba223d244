using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW101: a route or mirror destination host (<c>http/tls/tcp[].route[]</c>, <c>http[].mirror</c>,
/// <c>http[].mirrors[]</c>) resolves to no ServiceEntry or Service the client can see (Istio IST0101, Kiali KIA1101).</summary>
/// <remarks>The client namespace is the VirtualService's. A leg bound to <c>mesh</c> runs in sidecars: exportTo and
/// the namespace's Sidecar egress hosts decide visibility, and its outbound mode the severity. A leg bound only to
/// Gateways runs in the gateway workload, which no Sidecar scopes: exportTo alone decides, with the mesh-wide mode.
/// Under REGISTRY_ONLY the traffic goes to BlackHoleCluster (error); under ALLOW_ANY to PassthroughCluster (warning).
/// A cluster-local host in a view without any Service is only a warning: the input does not include the Services
/// (an offline check of Istio manifests), so their absence proves nothing.</remarks>
internal sealed class Egw101DestinationHostNotRegistered : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.DestinationHostNotRegistered];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        foreach (var d in context.DestinationsOf(vs))
        {
            var scope = context.ScopeOf(vs, d.Gateways);
            var targets = context.ResolveDestination(d.Host, scope);
            if (targets.Found)
            {
                continue;
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
                message = $"{what}{d.Host}: {se.Ref} is not exported to {ns}; add {ns} to its exportTo";
                related = [se.Ref];
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
                message = $"{what}{d.Host}: no ServiceEntry or Service visible to {ns} ({scope.FallbackCluster}); {fix}";
                related = [];
            }

            // a cluster-local host in an input without any Service: the Services are simply not part of it
            var severity = HostName.IsClusterLocal(d.Host) && !context.View.HasServices ? Severity.Warning : scope.ErrorIfRegistryOnly;
            context.Report(related.Any() ? null : Awaited.RegistryObjectFor(d.Host), RuleIds.DestinationHostNotRegistered, severity, vs, Registry.HostPath(d), message, related);
        }
    }

    /// <summary>VirtualServices routing to a host the changed ServiceEntry or Service declares.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        Registry.VirtualServicesRoutingToRegistryObject(changed, view);
}
