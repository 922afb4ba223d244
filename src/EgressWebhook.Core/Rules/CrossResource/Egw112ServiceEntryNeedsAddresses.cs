using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW112: a ServiceEntry without <c>addresses</c> has a port whose protocol is unset or TCP, and DNS
/// auto-allocation is not on in the mesh config (Istio IST0134).</summary>
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

        for (var i = 0; i < se.Spec.Ports.Count; i++)
        {
            // a "~" list item decodes to null
            if (se.Spec.Ports[i] is { } port && (string.IsNullOrEmpty(port.Protocol) || Protocols.Is(port.Protocol, Protocols.Tcp)))
            {
                var what = string.IsNullOrEmpty(port.Protocol) ? $"port {port.Number} (protocol unset)" : $"{port.Protocol} port {port.Number}";
                context.Report(RuleIds.ServiceEntryNeedsAddresses, Severity.Warning, se, $"spec.ports[{i}]",
                    $"{what} without addresses claims port {port.Number} on every IP (DNS auto-allocation off); set spec.addresses");
            }
        }
    }
}
