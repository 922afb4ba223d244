namespace EgressWebhook.Core.Mutation;

/// <summary>The annotations and labels that drive egress-gateway routing (documented in docs/mutation.md).</summary>
public static class RoutingAnnotations
{
    /// <summary>ServiceEntry annotation naming the egress gateway Service: <c>&lt;namespace&gt;/&lt;service&gt;</c>.</summary>
    public const string Gateway = "egress.istio.io/gateway";

    /// <summary>ServiceEntry annotation; <see cref="Disabled"/> opts the entry out.</summary>
    public const string Routing = "egress.istio.io/routing";

    public const string Disabled = "disabled";

    /// <summary>Namespace label naming the gateway for every ServiceEntry of the namespace:
    /// <c>&lt;namespace&gt;.&lt;service&gt;</c> (label values cannot contain <c>/</c>).</summary>
    public const string NamespaceLabel = "egress.istio.io/gateway";

    /// <summary>ServiceEntry annotation; <c>"true"</c> makes the gateway originate TLS for the entry's HTTP ports
    /// (the application sends plain HTTP, the gateway connects with TLS to the entry's HTTPS/TLS port).</summary>
    public const string TlsOrigination = "egress.istio.io/tls-origination";

    /// <summary>ServiceEntry annotation: CA bundle path the gateway verifies the external server with when originating TLS.</summary>
    public const string CaCertificates = "egress.istio.io/ca-certificates";
}
