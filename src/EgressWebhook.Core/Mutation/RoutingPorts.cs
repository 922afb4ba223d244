using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Mutation;

/// <summary>Which ports of a ServiceEntry are routed, and over which gateway Service port each crosses (EGW406, EGW407 for
/// those left out): HTTP and TLS ports only, one entry port per gateway port, the TLS origination target
/// (<see cref="RoutingAnnotations.TlsOrigination"/>) reached by the HTTP ports instead of passed through.</summary>
internal static class RoutingPorts
{
    /// <summary>One SE port to route: its index, the port, TLS family or HTTP, the gateway Service port it crosses.</summary>
    internal sealed record PlannedPort(int Index, ServicePortSpec Port, bool Tls, int GatewayPort, int DestinationPort);

    public static List<PlannedPort> Plan(ServiceEntry entry, GatewayServiceRef gateway, Service service, List<Finding> notices)
    {
        var spec = entry.Spec;
        var originate = entry.Metadata.Annotations.TryGetValue(RoutingAnnotations.TlsOrigination, out var o) &&
                        string.Equals(o, "true", StringComparison.OrdinalIgnoreCase);
        ServicePortSpec? originationTarget = null;
        if (originate)
        {
            originationTarget = spec.Ports.Where(p => Protocols.IsTls(p.Protocol)).OrderBy(p => p.Number == 443 ? 0 : 1).FirstOrDefault();
            if (originationTarget is null)
            {
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedPortProtocol, entry, "spec.ports",
                    $"{RoutingAnnotations.TlsOrigination} needs an HTTPS or TLS port to connect to; add port 443/HTTPS"));
            }
        }

        var result = new List<PlannedPort>();
        var used = new Dictionary<int, int>();
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            var port = spec.Ports[i];
            var tls = Protocols.IsTls(port.Protocol);
            if (!tls && !Protocols.IsHttp(port.Protocol))
            {
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedPortProtocol, entry, $"spec.ports[{i}].protocol",
                    $"port {port.Number} protocol {(string.IsNullOrEmpty(port.Protocol) ? "unset (TCP)" : port.Protocol)}: only HTTP and TLS ports are routed by host"));
                continue;
            }

            if (originationTarget is not null && ReferenceEquals(port, originationTarget))
            {
                // the gateway originates TLS to this port; passing the application's own TLS through on it too would
                // meet the origination DestinationRule and be encrypted twice
                continue;
            }

            if (PickServicePort(service, port.Number, tls) is not { } gatewayPort)
            {
                var ports = string.Join(", ", service.Spec.Ports.Select(p => p.Port));
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedNoGateway, entry, $"spec.ports[{i}]",
                    $"port {port.Number}/{port.Protocol}: gateway Service {gateway} has no {(tls ? "TLS" : "HTTP")} port (ports: {ports}); add one"));
                continue;
            }

            if (used.TryGetValue(gatewayPort, out var other))
            {
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedNoGateway, entry, $"spec.ports[{i}]",
                    $"port {port.Number}: gateway Service {gateway} port {gatewayPort} already carries port {other}; add a gateway port"));
                continue;
            }

            used[gatewayPort] = port.Number;
            var destination = !tls && originationTarget is not null ? originationTarget.Number : port.Number;
            result.Add(new PlannedPort(i, port, tls, gatewayPort, destination));
        }

        return result;
    }

    /// <summary>The gateway Service port for an entry port: the same number, else the first port named for the
    /// protocol family (<c>http*</c> for HTTP; <c>https*</c> or <c>tls*</c> for TLS).</summary>
    private static int? PickServicePort(Service service, int number, bool tls)
    {
        if (service.Spec.Ports.FirstOrDefault(p => p.Port == number) is { } same)
        {
            return same.Port;
        }

        var named = service.Spec.Ports.FirstOrDefault(p => p.Name is { } n && (tls
            ? n.StartsWith("https", StringComparison.OrdinalIgnoreCase) || n.StartsWith("tls", StringComparison.OrdinalIgnoreCase)
            : n.StartsWith("http", StringComparison.OrdinalIgnoreCase) && !n.StartsWith("https", StringComparison.OrdinalIgnoreCase)));
        return named?.Port;
    }
}
