using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW118: one host declared by ServiceEntries of several namespaces (or by a ServiceEntry and a Kubernetes
/// Service) that one namespace sees together: only one of them serves it there.</summary>
/// <remarks>Since Istio 1.30 a namespace that sees several definitions of a host gets one: a Kubernetes Service first,
/// then the oldest ServiceEntry (<c>metadata.creationTimestamp</c>; manifests without one are ordered by namespace and
/// name here). The warning goes on every entry that loses and names the winner. Entries of one namespace are merged
/// by Istio and not judged here; protocol disagreements are EGW110's.</remarks>
internal sealed class Egw118HostInSeveralNamespaces : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.HostInSeveralNamespaces];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se)
        {
            return;
        }

        var defaults = context.Mesh.DefaultServiceExportTo;
        var hosts = EgressSnapshot.HostsOf(se).Distinct(StringComparer.Ordinal).ToList();
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            var service = HostName.IsClusterLocal(host) && !HostName.IsWildcard(host)
                ? context.View.Services(host).Where(m => m.Host == host).Select(m => m.Item).FirstOrDefault()
                : null;
            var rivals = context.View.ServiceEntries(host)
                .Where(m => m.Host == host && m.Item.Namespace != se.Namespace &&
                            ExportTo.Overlap(se.Spec.ExportTo, se.Namespace, m.Item.Spec.ExportTo, m.Item.Namespace, defaults))
                .Select(m => m.Item).DistinctBy(o => o.Key).ToList();
            if (rivals.Count == 0)
            {
                continue;
            }

            EgressObject winner = (EgressObject?)service ?? rivals.Append(se).OrderBy(e => e.Metadata.CreatedAt ?? DateTimeOffset.MaxValue)
                .ThenBy(e => e.Namespace, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).First();
            if (ReferenceEquals(winner, se))
            {
                continue;
            }

            var why = winner is Service ? "a Service wins" : winner.Metadata.CreatedAt is null ? "first by name" : "oldest wins";
            var others = rivals.Count > 1 ? $" (+{rivals.Count - 1})" : "";
            context.Report(RuleIds.HostInSeveralNamespaces, Severity.Warning, se, $"spec.hosts[{IndexOf(se, host)}]",
                $"{host} is also in {rivals[0].Namespace}/{rivals[0].Name}{others}; shared namespaces get {winner.KindName} " +
                $"{winner.Namespace}/{winner.Name} ({why}); keep one",
                rivals.Select(r => r.Ref).Append(winner.Ref));
        }
    }

    /// <summary>The other entries of the changed entry's hosts.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is ServiceEntry se
            ? EgressSnapshot.HostsOf(se).SelectMany(h => view.ServiceEntries(h).Where(m => m.Host == h)).Select(m => m.Item)
            : [];

    private static int IndexOf(ServiceEntry se, string host)
    {
        for (var i = 0; i < se.Spec.Hosts.Count; i++)
        {
            if (HostName.Resolve(se.Spec.Hosts[i], se.Namespace) == host)
            {
                return i;
            }
        }

        return 0;
    }
}
