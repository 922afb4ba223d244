namespace EgressWebhook.Core.Istio;

/// <summary>Istio's <c>[ns/]dnsName</c> host form, shared by Gateway server hosts and Sidecar egress hosts: the one place
/// the <c>ns/</c> prefix is split off.</summary>
/// <remarks>The namespace part is <c>*</c> when absent; <c>.</c> means the object's own namespace and <c>~</c> none
/// (Sidecar only). See https://istio.io/latest/docs/reference/config/networking/gateway/#Server and
/// https://istio.io/latest/docs/reference/config/networking/sidecar/#IstioEgressListener.</remarks>
internal static class NamespacedHost
{
    /// <summary><c>ns/h</c> → (<c>ns</c>, <c>h</c>); <c>h</c> → (<c>*</c>, <c>h</c>).</summary>
    public static (string Namespace, string Dns) Split(string host)
    {
        var slash = host.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("*", host) : (host[..slash], host[(slash + 1)..]);
    }

    /// <summary>The DNS part (<c>ns/h</c> → <c>h</c>).</summary>
    public static string DnsName(string host) => Split(host).Dns;
}
