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

        // the entry's scope is expanded once, and each rival's once however many hosts it shares (either list may hold thousands)
        var scope = ExportTo.ScopeOf(se.Spec.ExportTo, se.Namespace, defaults);
        var overlaps = new Dictionary<ObjectKey, bool>();
        bool Overlaps(ServiceEntry other)
        {
            if (!overlaps.TryGetValue(other.Key, out var overlap))
            {
                overlaps[other.Key] = overlap = scope.Overlaps(ExportTo.ScopeOf(other.Spec.ExportTo, other.Namespace, defaults));
            }

            return overlap;
        }

        // each distinct host some other entry declares, with the index of its first spec.hosts entry, in that order
        var declaring = context.View.ServiceEntriesDeclaringHostsOf(se);
        foreach (var (host, index) in declaring.Declared)
        {
            var found = declaring.Declaring(host);
            if (found.Count == 0)
            {
                continue;
            }

            var service = HostName.IsClusterLocal(host) && !HostName.IsWildcard(host)
                ? context.View.Services(host).Where(m => m.Host == host).Select(m => m.Item).FirstOrDefault()
                : null;
            var rivals = found.Where(o => o.Namespace != se.Namespace && Overlaps(o)).DistinctBy(o => o.Key).ToList();
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
            context.Report(RuleIds.HostInSeveralNamespaces, Severity.Warning, se, $"spec.hosts[{index}]",
                $"{host} is also in {rivals[0].Namespace}/{rivals[0].Name}{others}; shared namespaces get {winner.KindName} " +
                $"{winner.Namespace}/{winner.Name} ({why}); keep one",
                rivals.Select(r => r.Ref).Append(winner.Ref));
        }
    }

    /// <summary>The other entries of the changed entry's hosts.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is ServiceEntry se ? ServiceRegistry.ServiceEntriesDeclaringHostsOf(se, view) : [];
}
