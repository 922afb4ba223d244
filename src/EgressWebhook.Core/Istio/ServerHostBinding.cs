using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>Gateway server hosts <c>[ns/]dnsName</c> and which VirtualService hosts they admit.</summary>
/// <remarks><c>./h</c> is <c>h</c> for VirtualServices in the Gateway's namespace, <c>*/h</c> (or a bare <c>h</c>) for any
/// namespace, <c>ns/h</c> only for VirtualServices in <c>ns</c>; the DNS part matches with <see cref="HostName.Matches"/>.</remarks>
public static class ServerHostBinding
{
    /// <summary>Splits a server host into its namespace part (<c>*</c> when absent) and DNS name.</summary>
    public static (string Namespace, string Dns) Split(string serverHost)
    {
        var slash = serverHost.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("*", serverHost) : (serverHost[..slash], serverHost[(slash + 1)..]);
    }

    /// <summary>Whether server host <paramref name="serverHost"/> of a Gateway in <paramref name="gatewayNamespace"/>
    /// admits the (resolved) host <paramref name="vsHost"/> of a VirtualService in <paramref name="vsNamespace"/>.</summary>
    public static bool Admits(string serverHost, string gatewayNamespace, string vsNamespace, string vsHost)
    {
        var (ns, dns) = Split(serverHost);
        var namespaceOk = ns == "*" || (ns == "." ? vsNamespace == gatewayNamespace : ns == vsNamespace);
        return namespaceOk && HostName.Matches(dns, vsHost);
    }

    /// <summary>Whether <paramref name="server"/> of <paramref name="gateway"/> takes traffic for one of
    /// <paramref name="hosts"/> (resolved hosts of a VirtualService in <paramref name="vsNamespace"/>).</summary>
    public static bool Admits(GatewayServer server, Gateway gateway, string vsNamespace, IEnumerable<string> hosts) =>
        hosts.Any(h => server.Hosts.Any(sh => Admits(sh, gateway.Namespace, vsNamespace, h)));

    /// <summary>Whether <paramref name="server"/> serves one of <paramref name="hosts"/>, whatever the namespace part
    /// (for traffic arriving at the gateway, e.g. from a sidecar, rather than a VirtualService binding to it).</summary>
    public static bool Serves(GatewayServer server, IEnumerable<string> hosts) =>
        hosts.Any(h => server.Hosts.Any(sh => HostName.Matches(Split(sh).Dns, h)));
}
