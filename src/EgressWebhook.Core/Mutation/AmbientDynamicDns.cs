using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Mutation;

/// <summary>Whether an opted-in wildcard ServiceEntry in an ambient namespace can be routed through its egress waypoint
/// with <c>resolution: DYNAMIC_DNS</c> (Istio 1.28+), and if not, why.</summary>
/// <param name="Qualifies">Every condition holds: the webhook sets <c>resolution: DYNAMIC_DNS</c> (when it is not
/// already) and binds the entry to the waypoint like any other; EGW401 is not given.</param>
/// <param name="Why">When it does not qualify: the first condition that fails, for EGW401's message.</param>
public sealed record DynamicDnsDecision(bool Qualifies, string? Why);

/// <summary>The DYNAMIC_DNS decision for ambient wildcard entries (the conditions of EGW504, read the other way round).</summary>
/// <remarks>DYNAMIC_DNS builds an Envoy dynamic forward proxy at the waypoint that resolves the host each request names
/// (HTTP authority) or each connection names (TLS SNI); istiod programs it only for a MESH_EXTERNAL entry bound to a
/// waypoint (Istio blog "Simplifying Egress Routing to Wildcard Destinations", 2026; ambient/08 of the corpus), only wildcard
/// hosts take it (a concrete host uses DNS), and a port must carry a host name (HTTP, HTTP2, GRPC, TLS, HTTPS; not TCP or
/// protocol-less). Istio's CRD (1.28+, <c>crd-all.istio-1.32-dev.yaml</c>) lists DYNAMIC_DNS in the resolution enum; its
/// CEL rules refuse endpoints with NONE and CIDR addresses outside NONE/STATIC, so an entry with addresses or endpoints is
/// left alone. The 1.24 CRD has no DYNAMIC_DNS: the value is written only when <see cref="MutationPolicy.DynamicDns"/>
/// says the mesh runs 1.28+, and only where <c>resolution</c> is unset (an explicit value is the author's).</remarks>
public static class AmbientDynamicDns
{
    private const string NeedsOption = "DYNAMIC_DNS needs Istio 1.28+: set Webhook:Mutation:DynamicDns=true";

    /// <summary>The decision for <paramref name="entry"/> (already in an ambient namespace), or null when it has no
    /// wildcard host (nothing to decide).</summary>
    public static DynamicDnsDecision? Decide(ServiceEntry entry, MutationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(policy);
        var spec = entry.Spec;
        if (!spec.Hosts.Any(HostName.IsWildcard))
        {
            return null;
        }

        var why = policy.DynamicDns ? Why(spec) : NeedsOption;
        return new DynamicDnsDecision(why is null, why);
    }

    /// <summary>The planner's side: whether the entry as stored (or as the webhook defaulted it) is routed through its
    /// waypoint by DYNAMIC_DNS: it qualifies and its resolution is DYNAMIC_DNS; null when it has no wildcard host.</summary>
    internal static DynamicDnsDecision? Routed(ServiceEntry entry)
    {
        var spec = entry.Spec;
        if (!spec.Hosts.Any(HostName.IsWildcard))
        {
            return null;
        }

        var why = Why(spec) ?? (spec.Resolution == Resolutions.DynamicDns ? null
            : NeedsOption);
        return new DynamicDnsDecision(why is null, why);
    }

    private static string? Why(ServiceEntrySpec spec)
    {
        if (spec.Hosts.FirstOrDefault(h => !HostName.IsWildcard(h)) is { } concrete)
        {
            return $"DYNAMIC_DNS takes wildcards only: move {concrete} to an entry of its own";
        }

        if (spec.Hosts.Contains("*"))
        {
            return "* is every host; name the domain (*.example.com)";
        }

        if (!string.IsNullOrEmpty(spec.Location) && spec.Location != Locations.MeshExternal)
        {
            return $"a waypoint resolves DYNAMIC_DNS only for MESH_EXTERNAL entries, not {spec.Location}";
        }

        if (spec.Resolution is { Length: > 0 } r && r != Resolutions.DynamicDns)
        {
            // an explicit value is the author's: the webhook never changes it
            return $"resolution {r} is set; set DYNAMIC_DNS to route it through the waypoint";
        }

        if (spec.Ports.Count == 0)
        {
            return "DYNAMIC_DNS needs a port that carries the host name (HTTP or TLS); add one";
        }

        if (spec.Ports.FirstOrDefault(p => !(Protocols.IsHttp(p.Protocol) || Protocols.IsTls(p.Protocol))) is { } bad)
        {
            return $"DYNAMIC_DNS needs a host name per connection, and port {bad.Number} is {(string.IsNullOrEmpty(bad.Protocol) ? "protocol-less" : bad.Protocol)}; use TLS or HTTP";
        }

        if (spec.Endpoints.Count > 0 || spec.WorkloadSelector is not null || spec.Addresses.Count > 0)
        {
            return "DYNAMIC_DNS takes no addresses, endpoints or workloadSelector; drop them";
        }

        return null;
    }
}
