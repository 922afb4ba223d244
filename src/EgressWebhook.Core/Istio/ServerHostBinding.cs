using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>Gateway server hosts <c>[ns/]dnsName</c> and which VirtualService hosts they admit.</summary>
/// <remarks><c>./h</c> is <c>h</c> for VirtualServices in the Gateway's namespace, <c>*/h</c> (or a bare <c>h</c>) for any
/// namespace, <c>ns/h</c> only for VirtualServices in <c>ns</c>; the DNS part matches with <see cref="HostName.Matches"/>.</remarks>
internal static class ServerHostBinding
{
    /// <summary>Whether server host <paramref name="serverHost"/> of a Gateway in <paramref name="gatewayNamespace"/>
    /// admits host <paramref name="vsHost"/> of a VirtualService in <paramref name="vsNamespace"/>: the namespace part
    /// (<c>.</c> = the Gateway's namespace, <c>*</c> or none = any, else that namespace) admits the VirtualService, and
    /// the DNS part <see cref="HostName.Matches"/> the host resolved in the VirtualService's namespace (what the proxy
    /// binds: istiod turns short VirtualService hosts into FQDNs before it matches them to gateway servers) or as
    /// written (what Istio's IST0132 analyzer compares). Resolving is idempotent, so a resolved host may be passed.</summary>
    /// <remarks>The one home of this decision: EGW104 (b) and EGW105 both call it.</remarks>
    public static bool Admits(string serverHost, string gatewayNamespace, string vsNamespace, string vsHost)
    {
        var (ns, dns) = NamespacedHost.Split(serverHost);
        var namespaceOk = ns == "*" || (ns == "." ? vsNamespace == gatewayNamespace : ns == vsNamespace);
        return namespaceOk && dns.Length > 0 &&
            (HostName.Matches(dns, vsHost) || HostName.Matches(dns, HostName.Resolve(vsHost, vsNamespace)));
    }

    /// <summary>Whether <paramref name="server"/> of <paramref name="gateway"/> takes traffic for one of
    /// <paramref name="hosts"/> (resolved hosts of a VirtualService in <paramref name="vsNamespace"/>).</summary>
    public static bool Admits(GatewayServer server, Gateway gateway, string vsNamespace, IReadOnlyList<string> hosts)
    {
        // indexed loops: every gateway-chain check asks this per server, and foreach over a list interface allocates
        for (var i = 0; i < hosts.Count; i++)
        {
            for (var j = 0; j < server.Hosts.Count; j++)
            {
                if (Admits(server.Hosts[j], gateway.Namespace, vsNamespace, hosts[i]))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="server"/> serves one of <paramref name="hosts"/>, whatever the namespace part
    /// (for traffic arriving at the gateway, e.g. from a sidecar, rather than a VirtualService binding to it).</summary>
    public static bool Serves(GatewayServer server, IReadOnlyList<string> hosts)
    {
        for (var i = 0; i < hosts.Count; i++)
        {
            for (var j = 0; j < server.Hosts.Count; j++)
            {
                if (HostName.Matches(NamespacedHost.DnsName(server.Hosts[j]), hosts[i]))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
