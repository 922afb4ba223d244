using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW105: the ports of a TLS passthrough chain through a gateway must line up.</summary>
/// <remarks>A PASSTHROUGH server on port P forwards the client's TLS stream by SNI without terminating it. So
/// (a) an http rule of a VirtualService bound to it never matches (the gateway sees no HTTP), (b) a tls/tcp match
/// for that gateway with a <c>port</c> other than P never matches, (c) the sidecars must send the SNI host to the
/// gateway's Service on port P (a Service port, which the Service maps to the gateway pod's targetPort), and (d) the
/// final destination should be a ServiceEntry port declared TLS or HTTPS, or the gateway's outbound cluster expects
/// another protocol. SIMPLE/MUTUAL/ISTIO_MUTUAL servers terminate TLS and legitimately change ports (TLS origination
/// at the gateway uses gateway port 80 and external port 443), so they are never checked.</remarks>
internal sealed class Egw105PassthroughPortChain : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.PassthroughPortChain];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        var rules = context.RouteRulesOf(vs);
        CheckGatewaySide(vs, rules, context);
        CheckMeshSide(vs, rules, context);
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        // a server's port or mode changes the gateway leg (a, b, d) and the mesh leg that targets its Service (c)
        Gateway gw => GatewayChain.BoundTo(view, gw).Concat(GatewayChain.RoutingToWorkloadOf(view, gw, EgressSnapshot.ServerHostsOf(gw))),

        // a Service becoming (or ceasing to be) a gateway's Service, or changing its port mapping (c)
        Service svc => view.VirtualServicesRoutingTo(EgressSnapshot.HostOf(svc)).Select(m => m.Item),

        // the final destination's protocol (d)
        ServiceEntry se => ServiceRegistry.VirtualServicesRoutingToRegistryObject(se, view),
        _ => [],
    };

    /// <summary>(a), (b), (d): the rules of <paramref name="vs"/> that apply to a Gateway with a passthrough server for its hosts.</summary>
    private static void CheckGatewaySide(VirtualService vs, IReadOnlyList<RouteRule> rules, RuleContext context)
    {
        var hosts = EgressSnapshot.HostsOf(vs).ToList();
        // rules share their gateway list unless they set match-level gateways: each list once
        foreach (var gwRef in rules.Select(r => r.Gateways).Distinct(ReferenceEqualityComparer.Instance).SelectMany(g => (IReadOnlyList<string>)g!).Distinct(StringComparer.Ordinal))
        {
            if (gwRef == GatewayRefs.Mesh || context.View.Gateway(gwRef) is not { } gw)
            {
                continue;
            }

            var bound = gw.Spec.Servers.Where(s => ServerHostBinding.Admits(s, gw, vs.Namespace, hosts)).ToList();
            var passthrough = bound.Where(GatewayChain.IsPassthrough).ToList();
            if (passthrough.Count == 0)
            {
                continue;
            }

            // the texts of a finding: made for the first one, once per gateway
            string? servers = null, passthroughPorts = null;
            string Servers() => servers ??= string.Join(", ", bound.Select(GatewayChain.Describe));
            string PassthroughPorts() => passthroughPorts ??= string.Join("/", passthrough.Select(s => s.Port?.Number).Distinct());
            var usePort = passthrough[0].Port?.Number;
            foreach (var rule in rules.Where(r => r.AppliesTo(gwRef)))
            {
                var ports = rule.PortsFor(gwRef);
                var targeted = bound.Where(s => ports.Contains(null) || ports.Contains(s.Port?.Number)).ToList();
                if (rule.Kind == RouteKind.Http)
                {
                    // (a) only when every server the rule could reach passes TLS through (or, matching no server's
                    // port, when every server for these hosts does): an http rule for a Gateway that also has an
                    // HTTP server for these hosts is that server's business
                    var reachable = targeted.Count > 0 ? targeted : bound;
                    if (reachable.TrueForAll(GatewayChain.IsPassthrough))
                    {
                        context.Report(RuleIds.PassthroughPortChain, Severity.Error, vs, rule.Path,
                            $"http rule never matches: Gateway {gwRef} passes TLS through on {PassthroughPorts()}; use a tls route with sniHosts",
                            gw.Ref);
                    }

                    continue;
                }

                foreach (var match in rule.MatchesFor(gwRef))
                {
                    // (b) a match port that no server for these hosts listens on
                    if (match.Port is { } q && !bound.Exists(s => s.Port?.Number == q))
                    {
                        var kind = rule.Kind == RouteKind.Tls ? "tls" : "tcp";
                        var message = gw.Spec.Servers.Any(s => s.Port?.Number == q)
                            ? $"{kind} match port {q}: Gateway {gwRef} serves other hosts there (servers for {hosts[0]}: {Servers()}); use {usePort}"
                            : $"{kind} match port {q} is not a port of Gateway {gwRef} (servers: {Servers()}); use {usePort}";
                        context.Report(RuleIds.PassthroughPortChain, Severity.Error, vs, match.Path + ".port", message, gw.Ref);
                    }
                }

                if (targeted.Exists(GatewayChain.IsPassthrough))
                {
                    CheckFinalDestinations(vs, rule, gw, context);
                }
            }
        }
    }

    /// <summary>(d): the gateway forwards the TLS stream as is, so the ServiceEntry port it goes to should say TLS or HTTPS.</summary>
    private static void CheckFinalDestinations(VirtualService vs, RouteRule rule, Gateway gw, RuleContext context)
    {
        foreach (var d in rule.Destinations)
        {
            // the gateway leg runs in the gateway's workload, in its namespace, which no Sidecar scopes
            var entries = context.VisibleServiceEntries(d.Host, context.GatewayNamespace(gw), sidecarScoped: false);
            var number = d.Destination.Port?.Number;
            var ports = entries
                .SelectMany(m => m.Item.Spec.Ports
                    .Where(p => number is null ? m.Item.Spec.Ports.Count == 1 : p.Number == number)
                    .Select(p => (Entry: m.Item, Port: p)))
                .ToList();

            // no entry, or no such port: EGW101/EGW102 say so
            if (ports.Count == 0 || ports.Exists(p => Protocols.IsTls(p.Port.Protocol)))
            {
                continue;
            }

            var (entry, port) = ports[0];
            var declared = string.IsNullOrEmpty(port.Protocol) ? "has no protocol" : $"is {port.Protocol}";
            context.Report(RuleIds.PassthroughPortChain, Severity.Warning, vs, number is null ? d.Path : d.Path + ".port.number",
                $"{d.Host}:{port.Number} {declared} in ServiceEntry {entry.Namespace}/{entry.Name} but the passthrough gateway forwards TLS; use a TLS port",
                gw.Ref, entry.Ref);
        }
    }

    /// <summary>(c): a sidecar rule that sends an SNI host to a gateway's Service must use the port of the
    /// gateway's server for that host.</summary>
    private static void CheckMeshSide(VirtualService vs, IReadOnlyList<RouteRule> rules, RuleContext context)
    {
        foreach (var rule in rules)
        {
            if (rule.Kind == RouteKind.Http || !rule.AppliesTo(GatewayRefs.Mesh))
            {
                continue;
            }

            var hosts = rule.HostsFor(vs, GatewayRefs.Mesh);
            foreach (var d in rule.Destinations)
            {
                if (d.Destination.Port?.Number is not { } sent)
                {
                    continue;
                }

                CheckMeshDestination(vs, d, sent, hosts, context);
            }
        }
    }

    private static void CheckMeshDestination(VirtualService vs, DestinationRef d, int sent, IReadOnlyList<string> hosts, RuleContext context)
    {
        foreach (var target in GatewayChain.GatewayTargets(context.View, d.Host))
        {
            foreach (var gw in target.Serving(hosts))
            {
                var servers = gw.Spec.Servers.Where(s => ServerHostBinding.Serves(s, hosts)).ToList();
                var passthrough = servers.Where(GatewayChain.IsPassthrough).ToList();
                if (passthrough.Count == 0 || servers.Exists(s => Reaches(target.Service, sent, s.Port?.Number)))
                {
                    continue;
                }

                var port = passthrough[0].Port?.Number;
                var host = hosts.First(h => passthrough.Exists(s => ServerHostBinding.Serves(s, [h])));
                context.Report(RuleIds.PassthroughPortChain, Severity.Error, vs, d.Path + ".port.number",
                    $"{host} goes to gateway port {sent} but Gateway {GatewayChain.RefOf(gw)} passes it through on {port}; use {port}",
                    gw.Ref, target.Service.Ref);
                return;
            }
        }
    }

    /// <summary>Whether traffic sent to Service port <paramref name="sent"/> arrives at a server on <paramref name="serverPort"/>:
    /// the same number (Istio binds a server on a Service port to that port's targetPort), or a Service port whose
    /// targetPort is the server port itself.</summary>
    private static bool Reaches(Service service, int sent, int? serverPort) =>
        serverPort is { } p && (p == sent || service.Spec.Ports.Any(sp => sp.Port == sent && sp.TargetPort == p.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
