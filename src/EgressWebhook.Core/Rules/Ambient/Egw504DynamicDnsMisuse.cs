using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Ambient;

/// <summary>EGW504: <c>resolution: DYNAMIC_DNS</c> where Istio does not support it: (a) a host that is not a wildcard,
/// (b) a TCP (or protocol-less) port, (c) a waypoint-bound entry that is not MESH_EXTERNAL.</summary>
/// <remarks>DYNAMIC_DNS (Istio 1.28+) builds an Envoy dynamic forward proxy that resolves the host each request or
/// connection names, by its HTTP authority or its TLS SNI: it is for wildcard hosts (a concrete host uses DNS), and a
/// port must carry one (HTTP, HTTP2, GRPC, TLS; validation rejects TCP). In ambient mode istiod programs it only for a
/// MESH_EXTERNAL entry bound to a waypoint (Istio blog "Simplifying Egress Routing to Wildcard Destinations", 2026; an
/// unbound wildcard entry is EGW503). (a)(b) error, (c) warning.</remarks>
internal sealed class Egw504DynamicDnsMisuse : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.DynamicDnsMisuse];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.ServiceEntry;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not ServiceEntry se || se.Spec.EffectiveResolution != Resolutions.DynamicDns)
        {
            return;
        }

        for (var i = 0; i < se.Spec.Hosts.Count; i++)
        {
            if (!HostName.IsWildcard(se.Spec.Hosts[i]))
            {
                context.Report(RuleIds.DynamicDnsMisuse, Severity.Error, se, $"spec.hosts[{i}]",
                    $"DYNAMIC_DNS resolves wildcard hosts only, not {se.Spec.Hosts[i]}; use resolution DNS for a concrete host");
            }
        }

        for (var i = 0; i < se.Spec.Ports.Count; i++)
        {
            var p = se.Spec.Ports[i];
            if (string.IsNullOrEmpty(p.Protocol) || Protocols.Is(p.Protocol, "TCP"))
            {
                context.Report(RuleIds.DynamicDnsMisuse, Severity.Error, se, $"spec.ports[{i}].protocol",
                    $"DYNAMIC_DNS needs a host name per connection; port {p.Number} is {(string.IsNullOrEmpty(p.Protocol) ? "protocol-less" : "TCP")}; use TLS or HTTP");
            }
        }

        if (se.Spec.EffectiveLocation != Locations.MeshExternal && Waypoints.BindingOf(se, context.View) is not null)
        {
            context.Report(RuleIds.DynamicDnsMisuse, Severity.Warning, se, "spec.location",
                $"a waypoint resolves DYNAMIC_DNS only for MESH_EXTERNAL entries, not {se.Spec.EffectiveLocation}; set location MESH_EXTERNAL");
        }
    }
}
