namespace EgressWebhook.Core.Istio;

/// <summary>Gateway server hosts <c>[ns/]dnsName</c>: which VirtualService hosts a server admits.</summary>
public static class GatewayServerHosts
{
    /// <summary>Whether server host <paramref name="serverHost"/> of a Gateway in <paramref name="gatewayNamespace"/>
    /// lets a VirtualService in <paramref name="vsNamespace"/> bind <paramref name="vsHost"/>: the namespace part
    /// (<c>.</c> = the Gateway's namespace, <c>*</c> or none = any, else that namespace) admits the VirtualService,
    /// and the dnsName <see cref="HostName.Matches"/> the host (as written, or resolved in the VirtualService's namespace).</summary>
    public static bool Admits(string serverHost, string gatewayNamespace, string vsNamespace, string vsHost)
    {
        var slash = serverHost.IndexOf('/', StringComparison.Ordinal);
        var nsPart = slash < 0 ? "*" : serverHost[..slash];
        var dnsName = slash < 0 ? serverHost : serverHost[(slash + 1)..];
        var nsOk = nsPart switch
        {
            "*" => true,
            "." => gatewayNamespace == vsNamespace,
            _ => nsPart == vsNamespace,
        };
        if (!nsOk || dnsName.Length == 0)
        {
            return false;
        }

        return HostName.Matches(dnsName, vsHost) || HostName.Matches(dnsName, HostName.Resolve(vsHost, vsNamespace));
    }

    /// <summary>The dnsName part of a server host (<c>ns/h</c> → <c>h</c>).</summary>
    public static string DnsName(string serverHost)
    {
        var slash = serverHost.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? serverHost : serverHost[(slash + 1)..];
    }
}
