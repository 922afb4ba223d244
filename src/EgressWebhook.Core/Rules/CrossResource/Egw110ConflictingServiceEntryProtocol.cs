using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW110: two ServiceEntries declare the same host and port with different protocols.</summary>
/// <remarks>A host:port is one cluster and one listener for the sidecars; its protocol decides whether they parse HTTP,
/// route on SNI or proxy TCP. Two visible declarations that disagree leave the choice to Istio's merge order, so one
/// of them is wrong for its clients (Istio IST0177). Protocols compare case-insensitively; a port without a protocol
/// declares none (the proxy sniffs it), so it is not compared; entries whose export scopes share no namespace never meet.</remarks>
public sealed class Egw110ConflictingServiceEntryProtocol : IEgressRule
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

        foreach (var host in EgressSnapshot.HostsOf(se).Distinct(StringComparer.Ordinal))
        {
            var others = context.View.ServiceEntries(host)
                .Where(m => m.Host == host && m.Item.Key != se.Key && Overlaps(m.Item))
                .Select(m => m.Item)
                .DistinctBy(o => o.Key)
                .OrderBy(o => o.Ref)
                .ToList();
            for (var i = 0; i < se.Spec.Ports.Count; i++)
            {
                var port = se.Spec.Ports[i];
                foreach (var other in others)
                {
                    if (reported.Contains(i) ||
                        other.Spec.Ports.FirstOrDefault(p => p.Number == port.Number && Differ(p.Protocol, port.Protocol)) is not { } theirs)
                    {
                        continue;
                    }

                    reported.Add(i);
                    context.Report(RuleIds.ConflictingServiceEntryProtocol, Severity.Warning, se, $"spec.ports[{i}].protocol",
                        $"{host}:{port.Number} is {port.Protocol} here but {theirs.Protocol} in ServiceEntry {other.Namespace}/{other.Name}; use one protocol",
                        other.Ref);
                }
            }
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view)
    {
        if (changed is not ServiceEntry se)
        {
            return [];
        }

        // each host queried once and matched against a set: an entry may list thousands of hosts
        var hosts = EgressSnapshot.HostsOf(se).ToHashSet(StringComparer.Ordinal);
        return hosts.SelectMany(h => view.ServiceEntries(h)).Where(m => hosts.Contains(m.Host)).Select(m => m.Item).Distinct();
    }

    private static bool Differ(string? a, string? b) => !string.IsNullOrEmpty(a) && !string.IsNullOrEmpty(b) && !Protocols.Is(a, b);
}
