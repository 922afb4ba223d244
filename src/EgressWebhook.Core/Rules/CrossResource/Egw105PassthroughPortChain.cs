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
        if (rules.Count == 0)
        {
            return;
        }

        // the resolved distinct hosts the rules share (the same answers as every host: Admits asks for any, a text names the first)
        var hosts = rules[0].ResolvedHosts ?? EgressSnapshot.HostsOf(vs).ToList();
        var gwRefs = DistinctGateways(rules);
        for (var g = 0; g < gwRefs.Count; g++)
        {
            var gwRef = gwRefs[g];
            if (gwRef == GatewayRefs.Mesh || context.View.Gateway(gwRef) is not { } gw)
            {
                continue;
            }

            var bound = new List<GatewayServer>();
            GatewayServer? firstPassthrough = null;
            foreach (var server in gw.Spec.Servers)
            {
                if (ServerHostBinding.Admits(server, gw, vs.Namespace, hosts))
                {
                    bound.Add(server);
                    firstPassthrough ??= GatewayChain.IsPassthrough(server) ? server : null;
                }
            }

            if (firstPassthrough is null)
            {
                continue;
            }

            var usePort = firstPassthrough.Port?.Number;
            // a finding's texts: made for the first finding, once per gateway (a VirtualService may have 50,000 rules)
            string? servers = null, passthroughPorts = null;
            for (var r = 0; r < rules.Count; r++)
            {
                var rule = rules[r];
                if (!rule.AppliesTo(gwRef))
                {
                    continue;
                }

                if (rule.Kind == RouteKind.Http)
                {
                    // (a) only when every server the rule could reach passes TLS through (or, matching no server's
                    // port, when every server for these hosts does): an http rule for a Gateway that also has an
                    // HTTP server for these hosts is that server's business
                    if (ReachesOnlyPassthrough(rule, gwRef, bound))
                    {
                        context.Report(RuleIds.PassthroughPortChain, Severity.Error, vs, rule.Path,
                            $"http rule never matches: Gateway {gwRef} passes TLS through on {passthroughPorts ??= PassthroughPorts(bound)}; use a tls route with sniHosts",
                            gw.Ref);
                    }

                    continue;
                }

                foreach (var match in rule.Matches)
                {
                    // (b) a match port that no server for these hosts listens on
                    if (match.Gateways.Contains(gwRef) && match.Port is { } q && !AnyOnPort(bound, q))
                    {
                        var kind = rule.Kind == RouteKind.Tls ? "tls" : "tcp";
                        var message = AnyOnPort(gw.Spec.Servers, q)
                            ? $"{kind} match port {q}: Gateway {gwRef} serves other hosts there (servers for {hosts[0]}: {servers ??= Servers(bound)}); use {usePort}"
                            : $"{kind} match port {q} is not a port of Gateway {gwRef} (servers: {servers ??= Servers(bound)}); use {usePort}";
                        context.Report(RuleIds.PassthroughPortChain, Severity.Error, vs, match.Path + ".port", message, gw.Ref);
                    }
                }

                if (TargetsPassthrough(rule, gwRef, bound))
                {
                    CheckFinalDestinations(vs, rule, gw, context);
                }
            }
        }
    }

    /// <summary>The distinct gateways the rules apply to, in rule order: rules share their gateway list unless they set
    /// match-level gateways, so most VirtualServices have one list, of one reference, which is its own answer.</summary>
    private static IReadOnlyList<string> DistinctGateways(IReadOnlyList<RouteRule> rules)
    {
        var first = rules[0].Gateways;
        var shared = first.Count <= 1;
        for (var i = 1; i < rules.Count && shared; i++)
        {
            shared = ReferenceEquals(rules[i].Gateways, first);
        }

        return shared
            ? first
            : [.. rules.Select(r => r.Gateways).Distinct(ReferenceEqualityComparer.Instance).SelectMany(g => (IReadOnlyList<string>)g!).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Whether a match of <paramref name="rule"/> at <paramref name="gwRef"/> takes traffic on <paramref name="server"/>'s
    /// port: a rule without matches takes every port, a match without a port too.</summary>
    private static bool Targets(RouteRule rule, string gwRef, GatewayServer server)
    {
        if (rule.Matches.Count == 0)
        {
            return true;
        }

        var number = server.Port?.Number;
        for (var i = 0; i < rule.Matches.Count; i++)
        {
            var m = rule.Matches[i];
            if (m.Gateways.Contains(gwRef) && (m.Port is null || m.Port == number))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>(a): whether every server <paramref name="rule"/> targets passes TLS through, or, when it targets none,
    /// every server for the hosts does.</summary>
    private static bool ReachesOnlyPassthrough(RouteRule rule, string gwRef, List<GatewayServer> bound)
    {
        var anyTargeted = bound.Exists(s => Targets(rule, gwRef, s));
        foreach (var s in bound)
        {
            if ((!anyTargeted || Targets(rule, gwRef, s)) && !GatewayChain.IsPassthrough(s))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="rule"/> targets a passthrough server among <paramref name="bound"/>.</summary>
    private static bool TargetsPassthrough(RouteRule rule, string gwRef, List<GatewayServer> bound)
    {
        foreach (var s in bound)
        {
            if (GatewayChain.IsPassthrough(s) && Targets(rule, gwRef, s))
            {
                return true;
            }
        }

        return false;
    }

    private static bool AnyOnPort(IReadOnlyList<GatewayServer> servers, int port)
    {
        for (var i = 0; i < servers.Count; i++)
        {
            if (servers[i].Port?.Number == port)
            {
                return true;
            }
        }

        return false;
    }

    // the texts of a finding, made only for one
    private static string Servers(List<GatewayServer> bound) => string.Join(", ", bound.Select(GatewayChain.Describe));

    private static string PassthroughPorts(List<GatewayServer> bound) =>
        string.Join("/", bound.Where(GatewayChain.IsPassthrough).Select(s => s.Port?.Number).Distinct());

    /// <summary>(d): the gateway forwards the TLS stream as is, so the ServiceEntry port it goes to should say TLS or HTTPS.</summary>
    private static void CheckFinalDestinations(VirtualService vs, RouteRule rule, Gateway gw, RuleContext context)
    {
        for (var k = 0; k < rule.Destinations.Count; k++)
        {
            var d = rule.Destinations[k];
            // the gateway leg runs in the gateway's workload, in its namespace, which no Sidecar scopes
            var entries = context.VisibleServiceEntries(d.Host, context.GatewayNamespace(gw), sidecarScoped: false);
            var number = d.Destination.Port?.Number;

            // the first port the destination may reach, unless one of them is TLS; no entry, or no such port: EGW101/EGW102 say so
            (ServiceEntry Entry, ServicePortSpec Port)? first = null;
            var anyTls = false;
            foreach (var m in entries)
            {
                var entryPorts = m.Item.Spec.Ports;
                foreach (var p in entryPorts)
                {
                    if (number is null ? entryPorts.Count == 1 : p.Number == number)
                    {
                        first ??= (m.Item, p);
                        anyTls |= Protocols.IsTls(p.Protocol);
                    }
                }
            }

            if (first is not { } found || anyTls)
            {
                continue;
            }

            var (entry, port) = found;
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
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            if (rule.Kind == RouteKind.Http || !rule.AppliesTo(GatewayRefs.Mesh))
            {
                continue;
            }

            var hosts = rule.HostsFor(vs, GatewayRefs.Mesh);
            for (var k = 0; k < rule.Destinations.Count; k++)
            {
                var d = rule.Destinations[k];
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
