using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW112: a ServiceEntry without <c>addresses</c> has a port whose protocol is unset or TCP, and DNS
/// auto-allocation is not on in the mesh config (Istio IST0134); (b) an error when two entries for different hosts, both
/// without addresses, have a port routed by neither Host nor SNI (TCP, unset, MONGO, MYSQL, …) with the same number and
/// some namespace sees both (istio/istio#24937, #11741, #29806).</summary>
/// <remarks>TCP carries no Host header or SNI, so the sidecar can only pick the entry by destination IP. Without an
/// address the listener is the port on every IP (<c>0.0.0.0:port</c>) and collides with any other TCP service on
/// that port. The DNS proxy's auto-allocation (<see cref="MeshConfig.DnsAutoAllocate"/>) or addresses already
/// allocated in <c>status.addresses</c> give the entry an address and silence the rule. Protocols compare
/// case-insensitively (<c>tcp</c> is TCP).</remarks>
internal sealed class Egw112ServiceEntryNeedsAddresses : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.ServiceEntryNeedsAddresses];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || se.Spec.Addresses.Count > 0 || se.Status.Addresses.Count > 0 || context.Mesh.DnsAutoAllocate)
        {
            return;
        }

        var rivals = new Rivals(se, context);
        for (var i = 0; i < se.Spec.Ports.Count; i++)
        {
            // a "~" list item decodes to null
            if (se.Spec.Ports[i] is not { } port)
            {
                continue;
            }

            // (b) two listeners on 0.0.0.0:port in one namespace's view (any protocol routed by neither Host nor SNI):
            // every connection on the port goes to one of them
            if (!Protocols.IsHttp(port.Protocol) && !Protocols.IsTls(port.Protocol) && rivals.On(port.Number) is { } other)
            {
                var what = string.IsNullOrEmpty(port.Protocol) ? "TCP" : port.Protocol;
                context.Report(RuleIds.ServiceEntryNeedsAddresses, Severity.Error, se, $"spec.ports[{i}]",
                    $"{what} port {port.Number} is also claimed without addresses by {other.Namespace}/{other.Name}: one entry gets it all; set spec.addresses",
                    other.Ref);
                continue;
            }

            if (string.IsNullOrEmpty(port.Protocol) || Protocols.Is(port.Protocol, Protocols.Tcp))
            {
                var what = string.IsNullOrEmpty(port.Protocol) ? $"port {port.Number} (protocol unset)" : $"{port.Protocol} port {port.Number}";
                context.Report(RuleIds.ServiceEntryNeedsAddresses, Severity.Warning, se, $"spec.ports[{i}]",
                    $"{what} without addresses claims port {port.Number} on every IP (DNS auto-allocation off); set spec.addresses");
            }
        }
    }

    /// <summary>Entries whose TCP port the changed entry shares (they gain or lose the error).</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is ServiceEntry se
            ? se.Spec.Ports.Where(p => p is not null).Select(p => p.Number).Distinct().SelectMany(view.AddresslessTcpServiceEntriesOn)
            : [];

    /// <summary>The entries <paramref name="se"/> shares a TCP port with, asked once per port: its hosts and export
    /// scope are built once per check, and each other entry is judged once however many ports it shares (an entry may
    /// list thousands of ports).</summary>
    private sealed class Rivals(ServiceEntry se, RuleContext context)
    {
        private readonly Dictionary<ObjectKey, bool> _judged = [];
        private HashSet<string>? _hosts;
        private ExportScope? _scope;

        /// <summary>Another entry with the TCP port <paramref name="port"/> and no address, for other hosts, that some
        /// namespace sees together with the entry (export scopes overlap): both claim <c>0.0.0.0:port</c> there.</summary>
        public ServiceEntry? On(int port)
        {
            foreach (var other in context.View.AddresslessTcpServiceEntriesOn(port).OrderBy(o => o.Ref))
            {
                if (other.Key == se.Key)
                {
                    continue;
                }

                if (!_judged.TryGetValue(other.Key, out var rival))
                {
                    _judged[other.Key] = rival = IsRival(other);
                }

                if (rival)
                {
                    return other;
                }
            }

            return null;
        }

        private bool IsRival(ServiceEntry other)
        {
            var defaults = context.Mesh.DefaultServiceExportTo;
            _hosts ??= EgressSnapshot.HostsOf(se).ToHashSet(StringComparer.Ordinal);
            _scope ??= ExportTo.ScopeOf(se.Spec.ExportTo, se.Namespace, defaults);
            return !EgressSnapshot.HostsOf(other).Any(_hosts.Contains) &&
                   _scope.Value.Overlaps(ExportTo.ScopeOf(other.Spec.ExportTo, other.Namespace, defaults));
        }
    }
}
