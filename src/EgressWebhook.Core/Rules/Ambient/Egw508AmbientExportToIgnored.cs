using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW508: a ServiceEntry whose <c>exportTo</c> narrows its visibility, used by the ambient data plane (bound to a
/// waypoint, or in a mesh with ambient namespaces), where <c>exportTo</c> is not honoured.</summary>
/// <remarks>ztunnel and waypoints read every ServiceEntry as exported to <c>*</c> (istio/istio#55163): an entry kept to its
/// own namespace with <c>exportTo: ["."]</c> still serves, and its waypoint still takes, the traffic of every ambient
/// namespace. Tenant isolation in ambient comes from AuthorizationPolicies on the waypoint (or Istio 1.31's
/// <c>serviceEntryVisibility</c>, EGW502). Warning.</remarks>
internal sealed class Egw508AmbientExportToIgnored : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.AmbientExportToIgnored];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || se.Spec.ExportTo.Count == 0 || se.Spec.ExportTo.Contains("*"))
        {
            return;
        }

        var binding = Waypoints.BindingOf(se, context.View);
        var ambient = Waypoints.AmbientNamespaces(context.View);
        ambient.Remove(se.Namespace);
        if (binding is null && ambient.Count == 0)
        {
            return;
        }

        var who = ambient.Count > 0 ? $"ambient {ambient[0]}{(ambient.Count > 1 ? $" (+{ambient.Count - 1})" : "")}" : "every ambient namespace";
        context.Report(RuleIds.AmbientExportToIgnored, Severity.Warning, se, "spec.exportTo",
            $"ztunnel and waypoints ignore exportTo: {who} can use it; restrict with a waypoint AuthorizationPolicy");
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Namespace ? view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry).Where(se => se.Spec.ExportTo.Count > 0) : [];
}
