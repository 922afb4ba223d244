using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW110: two ServiceEntries declare the same host and port with different protocols.</summary>
/// <remarks>A host:port is one cluster and one listener for the sidecars; its protocol decides whether they parse HTTP,
/// route on SNI or proxy TCP. Two visible declarations that disagree leave the choice to Istio's merge order, so one
/// of them is wrong for its clients (Istio IST0177). Protocols compare case-insensitively; a port without a protocol
/// declares none (the proxy sniffs it), so it is not compared; entries whose export scopes share no namespace never meet.</remarks>
internal sealed class Egw110ConflictingServiceEntryProtocol : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.ConflictingServiceEntryProtocol];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se)
        {
            return;
        }

        var defaults = context.Mesh.DefaultServiceExportTo;
        var scope = ExportTo.ScopeOf(se.Spec.ExportTo, se.Namespace, defaults);
        var reported = new HashSet<int>();

        // each other entry's scope expanded once, however many hosts it shares (either exportTo may hold thousands)
        var overlaps = new Dictionary<ObjectKey, bool>();
        bool Overlaps(ServiceEntry other)
        {
            if (!overlaps.TryGetValue(other.Key, out var overlap))
            {
                overlaps[other.Key] = overlap = scope.Overlaps(ExportTo.ScopeOf(other.Spec.ExportTo, other.Namespace, defaults));
            }

            return overlap;
        }

        // per other entry, the ports of this one it declares with another protocol, found once through its ports by
        // number (both lists may hold thousands); a conflict is taken out once its port is reported, so each is looked
        // at once however many hosts the entries share
        var conflicts = new Dictionary<ObjectKey, Queue<(int Index, ServicePortSpec Theirs)>>();

        // the entries declaring each host exactly, looked up in one table built once (shared with EGW118)
        var declaring = context.View.ServiceEntriesDeclaringHostsOf(se);
        // (only the hosts some other entry declares, in the order of their first spec.hosts entry)
        foreach (var (host, _) in declaring.Declared)
        {
            var declared = declaring.Declaring(host);
            if (declared.Count == 0)
            {
                continue;
            }

            var others = declared
                .Where(o => o.Key != se.Key && Overlaps(o))
                .DistinctBy(o => o.Key)
                .OrderBy(o => o.Ref)
                .ToList();
            if (others.Count == 0 || reported.Count == se.Spec.Ports.Count)
            {
                continue;
            }

            // per port (in order), the first other entry (in order) that disagrees
            var found = new SortedDictionary<int, (ServicePortSpec Theirs, ServiceEntry Other)>();
            foreach (var other in others)
            {
                if (!conflicts.TryGetValue(other.Key, out var pending))
                {
                    conflicts[other.Key] = pending = Conflicts(se, other);
                }

                while (pending.TryDequeue(out var conflict))
                {
                    if (!reported.Contains(conflict.Index))
                    {
                        found.TryAdd(conflict.Index, (conflict.Theirs, other));
                    }
                }
            }

            foreach (var (i, (theirs, other)) in found)
            {
                var port = se.Spec.Ports[i];
                reported.Add(i);
                context.Report(RuleIds.ConflictingServiceEntryProtocol, Severity.Warning, se, $"spec.ports[{i}].protocol",
                    $"{host}:{port.Number} is {port.Protocol} here but {theirs.Protocol} in ServiceEntry {other.Namespace}/{other.Name}; use one protocol",
                    other.Ref);
            }
        }
    }

    /// <summary>The ports of <paramref name="se"/> (by index) that <paramref name="other"/> declares with another
    /// protocol, each with the first such port of <paramref name="other"/>.</summary>
    private static Queue<(int Index, ServicePortSpec Theirs)> Conflicts(ServiceEntry se, ServiceEntry other)
    {
        // per number, the other's first port with a protocol and its first port with a protocol unlike that one: the
        // first port unlike any protocol is one of the two (protocols compare case-insensitively, an equivalence)
        var byNumber = new Dictionary<int, (ServicePortSpec First, ServicePortSpec? Unlike)>();
        foreach (var p in other.Spec.Ports)
        {
            if (string.IsNullOrEmpty(p.Protocol))
            {
                continue;
            }

            if (!byNumber.TryGetValue(p.Number, out var seen))
            {
                byNumber[p.Number] = (p, null);
            }
            else if (seen.Unlike is null && Differ(seen.First.Protocol, p.Protocol))
            {
                byNumber[p.Number] = (seen.First, p);
            }
        }

        var result = new Queue<(int, ServicePortSpec)>();
        for (var i = 0; i < se.Spec.Ports.Count; i++)
        {
            var port = se.Spec.Ports[i];
            if (byNumber.TryGetValue(port.Number, out var theirs) &&
                (Differ(theirs.First.Protocol, port.Protocol) ? theirs.First : theirs.Unlike is { } u && Differ(u.Protocol, port.Protocol) ? u : null) is { } conflict)
            {
                result.Enqueue((i, conflict));
            }
        }

        return result;
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view)
    {
        if (changed is not ServiceEntry se)
        {
            return [];
        }

        // the entries declaring one of its hosts exactly: one lookup table, built from the smaller side
        return ServiceRegistry.ServiceEntriesDeclaringHostsOf(se, view);
    }

    private static bool Differ(string? a, string? b) => !string.IsNullOrEmpty(a) && !string.IsNullOrEmpty(b) && !Protocols.Is(a, b);
}
