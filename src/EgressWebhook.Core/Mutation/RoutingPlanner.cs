using System.Net;
using System.Text.RegularExpressions;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.Guardrails;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>Plans the egress-gateway routing of one ServiceEntry: Gateway, mesh → gateway and gateway → external
/// VirtualService legs, and the DestinationRule for the gateway Service. Pure: it reads the view, never changes it.</summary>
/// <remarks>The chain is the one of Istio's egress-gateway tasks, built so that every link agrees by construction:
/// TLS/HTTPS ports get a <c>TLS</c> server in <c>PASSTHROUGH</c> and <c>tls</c> legs matching <c>sniHosts</c>; HTTP
/// ports get an <c>HTTP</c> server and <c>http</c> legs. Server ports and mesh-leg destination ports are the gateway
/// Service's <c>port</c> (never its <c>targetPort</c>), so the mesh leg, the server and the gateway leg meet on the same
/// number (EGW105). An existing route for the host is never duplicated: the entry is left out with EGW405.</remarks>
public static partial class RoutingPlanner
{
    /// <summary>apiVersion of every generated object.</summary>
    public const string ApiVersion = "networking.istio.io/v1";

    /// <summary>Plans the routing for <paramref name="entry"/> through <paramref name="gateway"/>, or says why it is left out.</summary>
    public static RoutingPlan Plan(ServiceEntry entry, GatewayServiceRef gateway, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        var notices = new List<Finding>();
        CheckEntry(entry, view, notices);
        CheckPolicies(entry, gateway, view, notices);
        if (WaypointRouting.Applies(entry, view))
        {
            // ambient: the entry's waypoint label is the routing; ztunnel would never use sidecar-mode legs
            notices.AddRange(WaypointRouting.Check(entry, gateway, view));
            return notices.Count > 0 ? new RoutingPlan(entry, [], notices) : new RoutingPlan(entry, [], notices, gateway);
        }

        var service = view.Find(new ObjectKey(ResourceKind.Service, gateway.Namespace, gateway.Name)) as Service;
        if (service is null)
        {
            notices.Add(Notice(RuleIds.RoutingSkippedNoGateway, entry, "metadata.annotations",
                $"gateway Service {gateway} not found; create it or fix annotation {RoutingAnnotations.Gateway}"));
        }

        if (notices.Count > 0 || service is null)
        {
            return new RoutingPlan(entry, [], notices);
        }

        var ports = PlanPorts(entry, gateway, service, notices);
        if (ports.Count == 0)
        {
            return new RoutingPlan(entry, [], notices);
        }

        var conflicts = Conflicts(entry, service, ports, view);
        if (conflicts.Count > 0)
        {
            notices.AddRange(conflicts);
            return new RoutingPlan(entry, [], notices);
        }

        // the checks judge the legs from where they run: refuse here what they would refuse there
        var hidden = Visibility(entry, gateway, service, view);
        if (hidden.Count > 0)
        {
            notices.AddRange(hidden);
            return new RoutingPlan(entry, [], notices);
        }

        // a planned name already taken by an object not generated for this entry (a user's own DestinationRule or
        // VirtualService): applying the plan would take that object over, and removing the plan later would delete it
        var objects = Build(entry, gateway, service, ports);
        if (objects.Select(o => view.Find(o.Key)).FirstOrDefault(stored => stored is not null && !IsGeneratedFor(stored, entry)) is { } taken)
        {
            notices.Add(Notice(RuleIds.RoutingSkippedConflictingRoute, entry, "metadata.name",
                $"{taken.KindName} {taken.Namespace}/{taken.Name} exists and was not generated for this entry; rename or delete it", taken.Ref));
            return new RoutingPlan(entry, [], notices);
        }

        return new RoutingPlan(entry, objects, notices);
    }

    /// <summary>EGW409: what the checks would refuse because of where the generated legs run (the catalogue's "What a
    /// gateway sees"), through the same look-ups the rules use (<see cref="ServiceRegistry.ResolveDestination"/>,
    /// <see cref="RuleContext.IsExported"/>, <see cref="RuleContext.GatewayNamespace"/>): the mesh leg runs in the
    /// sidecars of the entry's namespace, so their Sidecar scope must let them reach the gateway Service (EGW101); the
    /// gateway legs run in the gateway workload's namespace, which must see the entry (EGW101 from there) and the legs
    /// themselves (EGW104, through the mesh's <c>defaultVirtualServiceExportTo</c>: generated legs set no exportTo).</summary>
    private static List<Finding> Visibility(ServiceEntry entry, GatewayServiceRef gateway, Service service, SnapshotView view)
    {
        var result = new List<Finding>();
        var context = new RuleContext(view, RuleSettings.Default);
        var mesh = new LegScope(entry.Namespace, true, context.OutboundPolicyFor(entry.Namespace));
        var toGateway = context.ResolveDestination(gateway.Host, mesh);
        if (toGateway.Services.Count == 0)
        {
            var sidecar = context.ScopingSidecar(entry.Namespace);
            result.Add(sidecar is not null && !context.SidecarAllows(entry.Namespace, service.Namespace, gateway.Host)
                ? Notice(RuleIds.RoutingSkippedNotVisible, entry, "metadata.namespace",
                    $"Sidecar {sidecar.Namespace}/{sidecar.Name} hides the gateway; add \"{gateway.Namespace}/*\" to egress hosts",
                    sidecar.Ref, service.Ref)
                : Notice(RuleIds.RoutingSkippedNotVisible, entry, "metadata.namespace",
                    $"gateway Service {gateway} is not exported to {entry.Namespace}; set its networking.istio.io/exportTo to include it",
                    service.Ref));
        }

        // the Gateway to be generated selects the gateway Service's pods: its workload runs where the checks will look
        var planned = new Gateway { Metadata = new ObjectMeta { Name = Names.Gateway(entry), Namespace = entry.Namespace }, Spec = new GatewaySpec { Selector = service.Spec.Selector } };
        var g = context.GatewayNamespace(planned);
        var gatewayScope = new LegScope(g, false, context.MeshOutboundPolicy, planned);
        for (var i = 0; i < entry.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(entry.Spec.Hosts[i], entry.Namespace);
            if (context.IsExported(entry, g) || context.ResolveDestination(host, gatewayScope).Refs.Any(r => r != entry.Ref))
            {
                continue;
            }

            result.Add(Notice(RuleIds.RoutingSkippedNotVisible, entry, "spec.exportTo",
                $"hidden from the egress gateway in {g}; add {g} to exportTo"));
            break;
        }

        var leg = new VirtualService { Metadata = new ObjectMeta { Name = Names.TlsLeg(entry), Namespace = entry.Namespace } };
        if (!context.IsExportedTo(leg, g))
        {
            result.Add(Notice(RuleIds.RoutingSkippedNotVisible, entry, "metadata.namespace",
                $"mesh defaultVirtualServiceExportTo hides VirtualServices of {entry.Namespace} from {g}, where the gateway runs; widen it"));
        }

        return result;
    }

    /// <summary>Whether a ServiceEntry host is a DNS name the gateway can resolve: an RFC 1123 name, not a wildcard, not an IP.</summary>
    public static bool IsDnsName(string host) =>
        host.Length is > 0 and <= 253 && !HostName.IsWildcard(host) && !IPAddress.TryParse(host, out _) && DnsName().IsMatch(host);

    /// <summary>The names of the objects planned for an entry (deterministic; used to recognise them again).</summary>
    public static class Names
    {
        public static string Gateway(ServiceEntry entry) => $"{entry.Name}-egress";

        /// <summary>The Gateway of the HTTP servers when the entry also has TLS ports (else they are in <see cref="Gateway"/>).</summary>
        public static string HttpGateway(ServiceEntry entry) => $"{entry.Name}-egress-http";

        public static string MeshLeg(ServiceEntry entry) => $"{entry.Name}-egress-mesh";

        public static string TlsLeg(ServiceEntry entry) => $"{entry.Name}-egress-tls";

        public static string HttpLeg(ServiceEntry entry, int hostIndex) =>
            entry.Spec.Hosts.Count > 1 ? $"{entry.Name}-egress-http-{hostIndex}" : $"{entry.Name}-egress-http";

        public static string GatewayRule(ServiceEntry entry) => $"{entry.Name}-egress";

        public static string Origination(ServiceEntry entry, int hostIndex) =>
            entry.Spec.Hosts.Count > 1 ? $"{entry.Name}-egress-origination-{hostIndex}" : $"{entry.Name}-egress-origination";
    }

    /// <summary>Whether <paramref name="obj"/> was generated for <paramref name="entry"/> (so it is no conflict).</summary>
    public static bool IsGeneratedFor(EgressObject obj, ServiceEntry entry)
    {
        if (obj.Namespace != entry.Namespace || !RuleContext.IsGenerated(obj))
        {
            return false;
        }

        if (obj.Metadata.OwnerReferences.Any(o => o.Kind == "ServiceEntry" && o.Name == entry.Name &&
                                                  (string.IsNullOrEmpty(o.Uid) || string.IsNullOrEmpty(entry.Metadata.Uid) || o.Uid == entry.Metadata.Uid)))
        {
            return true;
        }

        // rendered objects (GitOps) carry no owner reference: recognise them by their deterministic names
        var names = new HashSet<string>(StringComparer.Ordinal) { Names.Gateway(entry), Names.HttpGateway(entry), Names.MeshLeg(entry), Names.TlsLeg(entry) };
        for (var i = 0; i < entry.Spec.Hosts.Count; i++)
        {
            names.Add(Names.HttpLeg(entry, i));
            names.Add(Names.Origination(entry, i));
        }

        return names.Contains(obj.Name);
    }

    /// <summary>EGW411: no routing for a host and port an EgressPolicy that selects the entry's namespace forbids (what
    /// EGW301 refuses), nor through another gateway than the policy's <c>requiredGateway</c>, nor other than through its
    /// <c>requiredWaypoint</c> (ambient namespaces only: sidecar-mode routing never reaches a waypoint). Deny and Warn policies
    /// only: an Audit policy changes nothing users see, the generator included.</summary>
    private static void CheckPolicies(ServiceEntry entry, GatewayServiceRef gateway, SnapshotView view, List<Finding> notices)
    {
        var policies = PolicySet.Of(view);
        if (policies.IsEmpty)
        {
            return;
        }

        foreach (var policy in policies.Selecting(entry.Namespace).Where(p => !PolicySet.IsAudit(p)))
        {
            var forbidden = OpenedHosts.Of(entry)
                .FirstOrDefault(h => !PolicySet.Allows(policy, h.Host, h.Port, h.Protocol));
            if (forbidden is not null)
            {
                var what = forbidden.Protocol is { } protocol ? $"{forbidden.HostPort}/{protocol.ToUpperInvariant()}" : forbidden.HostPort;
                notices.Add(Notice(RuleIds.RoutingSkippedPolicyForbids, entry, forbidden.Path,
                    $"{what} not allowed (allows {PolicySet.DescribeAllowed(policy)}), no routing; remove it or extend EgressPolicy {policy.Name}",
                    policy.Ref));
            }

            if (PolicySet.SplitRef(policy.Spec.RequiredGateway) is { } required &&
                (required.Namespace != gateway.Namespace || required.Name != gateway.Name))
            {
                notices.Add(Notice(RuleIds.RoutingSkippedPolicyForbids, entry, "metadata.annotations",
                    $"gateway {gateway} is not the required one; use {required.Namespace}/{required.Name} (EgressPolicy {policy.Name})", policy.Ref));
            }

            if (policy.Spec.RequiredWaypoint is { } waypoint)
            {
                var ambient = WaypointRouting.Applies(entry, view);
                if (!ambient || waypoint.Namespace != gateway.Namespace || waypoint.Name != gateway.Name)
                {
                    notices.Add(Notice(RuleIds.RoutingSkippedPolicyForbids, entry, "metadata.annotations", ambient
                        ? $"waypoint {gateway} is not the required one; use {waypoint} (EgressPolicy {policy.Name})"
                        : $"sidecar-mode routing via {gateway} is not required waypoint {waypoint}; run the namespace ambient (EgressPolicy {policy.Name})",
                        policy.Ref));
                }
            }
        }
    }

    private static void CheckEntry(ServiceEntry entry, SnapshotView view, List<Finding> notices)
    {
        var spec = entry.Spec;
        var wildcard = false;
        var dynamicDns = WaypointRouting.Applies(entry, view) ? AmbientDynamicDns.Routed(entry) : null;
        if (spec.Hosts.Count == 0)
        {
            notices.Add(Notice(RuleIds.RoutingSkippedWildcardHost, entry, "spec.hosts", "has no hosts: there is nothing to route through the egress gateway; add spec.hosts"));
        }

        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            if (HostName.IsWildcard(spec.Hosts[i]))
            {
                wildcard = true;
                if (dynamicDns is { Qualifies: true })
                {
                    continue; // ambient: the waypoint resolves it per request (AmbientDynamicDns)
                }

                notices.Add(Notice(RuleIds.RoutingSkippedWildcardHost, entry, $"spec.hosts[{i}]", dynamicDns?.Why is { } why
                    ? $"host {spec.Hosts[i]} is a wildcard: {why}"
                    : $"host {spec.Hosts[i]} is a wildcard the gateway cannot resolve; route exact hosts in their own DNS ServiceEntry"));
            }
        }

        if (spec.EffectiveLocation != Locations.MeshExternal)
        {
            notices.Add(Notice(RuleIds.RoutingSkippedMeshInternal, entry, "spec.location",
                $"location {spec.EffectiveLocation}: egress-gateway routing is for MESH_EXTERNAL entries; set it or opt out"));
        }

        for (var i = 0; i < spec.Addresses.Count; i++)
        {
            if (spec.Addresses[i].Contains('/', StringComparison.Ordinal))
            {
                notices.Add(Notice(RuleIds.RoutingSkippedCidr, entry, $"spec.addresses[{i}]",
                    $"address {spec.Addresses[i]} is a CIDR range, not routable by host; opt out with {RoutingAnnotations.Routing}: disabled"));
                break;
            }
        }

        var resolution = spec.EffectiveResolution;
        if (resolution is not (Resolutions.Dns or Resolutions.DnsRoundRobin) && !(wildcard && string.IsNullOrEmpty(spec.Resolution)) && dynamicDns is not { Qualifies: true })
        {
            var shown = string.IsNullOrEmpty(spec.Resolution) ? "unset (NONE)" : resolution;
            var why = resolution == Resolutions.None ? "the gateway would send the traffic to itself in a loop" : "routing is given to DNS entries only";
            notices.Add(Notice(RuleIds.RoutingSkippedResolution, entry, "spec.resolution", $"resolution {shown}: {why}; set resolution: DNS"));
        }

        var seen = new HashSet<ObjectKey>();
        foreach (var route in view.GatewayApiRoutesWithServiceEntryParent(entry.Namespace, entry.Name))
        {
            if (seen.Add(route.Key))
            {
                notices.Add(Notice(RuleIds.RoutingSkippedGatewayApiRoute, entry, "metadata.name",
                    $"parentRef of {route.Display}, which routes it; drop that route to get egress routing", route.Ref));
            }
        }

        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            foreach (var match in view.GatewayApiRoutes(HostName.Resolve(spec.Hosts[i], entry.Namespace)))
            {
                if (seen.Add(match.Item.Key))
                {
                    notices.Add(Notice(RuleIds.RoutingSkippedGatewayApiRoute, entry, $"spec.hosts[{i}]",
                        $"host {spec.Hosts[i]} is routed by {match.Item.Display}; drop that route to get egress routing", match.Item.Ref));
                }
            }
        }
    }

    /// <summary>One SE port to route: its index, the port, TLS family or HTTP, the gateway Service port it crosses.</summary>
    private sealed record PlannedPort(int Index, ServicePortSpec Port, bool Tls, int GatewayPort, int DestinationPort);

    private static List<PlannedPort> PlanPorts(ServiceEntry entry, GatewayServiceRef gateway, Service service, List<Finding> notices)
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
                notices.Add(Notice(RuleIds.RoutingSkippedPortProtocol, entry, "spec.ports",
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
                notices.Add(Notice(RuleIds.RoutingSkippedPortProtocol, entry, $"spec.ports[{i}].protocol",
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
                notices.Add(Notice(RuleIds.RoutingSkippedNoGateway, entry, $"spec.ports[{i}]",
                    $"port {port.Number}/{port.Protocol}: gateway Service {gateway} has no {(tls ? "TLS" : "HTTP")} port (ports: {ports}); add one"));
                continue;
            }

            if (used.TryGetValue(gatewayPort, out var other))
            {
                notices.Add(Notice(RuleIds.RoutingSkippedNoGateway, entry, $"spec.ports[{i}]",
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

    private static List<Finding> Conflicts(ServiceEntry entry, Service service, List<PlannedPort> ports, SnapshotView view)
    {
        var result = new List<Finding>();
        var seen = new HashSet<ObjectKey>();
        for (var i = 0; i < entry.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(entry.Spec.Hosts[i], entry.Namespace);
            foreach (var match in view.VirtualServices(host))
            {
                var vs = match.Item;
                if (EgressSnapshot.IsBoundTo(vs, GatewayRefs.Mesh) && !IsGeneratedFor(vs, entry) && seen.Add(vs.Key))
                {
                    result.Add(Notice(RuleIds.RoutingSkippedConflictingRoute, entry, $"spec.hosts[{i}]",
                        $"mesh VirtualService {vs.Namespace}/{vs.Name} routes {entry.Spec.Hosts[i]} already; add the legs there or delete it", vs.Ref));
                }
            }
        }

        var gatewayPorts = ports.Select(p => p.GatewayPort).ToHashSet();
        // Gateways with a server for one of the hosts, through the server-host index (a shared egress gateway may carry
        // every team's Gateway), then those on this gateway's workload
        var serving = entry.Spec.Hosts.SelectMany(h => view.GatewaysServing(h)).Select(m => m.Item)
            .OrderBy(g => g.Namespace, StringComparer.Ordinal).ThenBy(g => g.Name, StringComparer.Ordinal);
        foreach (var gw in serving)
        {
            if (IsGeneratedFor(gw, entry) || !SnapshotView.Selects(gw, service) || !seen.Add(gw.Key))
            {
                continue;
            }

            foreach (var server in gw.Spec.Servers)
            {
                if (server.Port is not { } p || !gatewayPorts.Contains(p.Number))
                {
                    continue;
                }

                var host = entry.Spec.Hosts.FirstOrDefault(h => server.Hosts.Any(sh => HostName.Matches(NamespacedHost.DnsName(sh), h)));
                if (host is not null)
                {
                    result.Add(Notice(RuleIds.RoutingSkippedConflictingRoute, entry, "spec.hosts",
                        $"Gateway {gw.Namespace}/{gw.Name} serves {host} on gateway port {p.Number} already; remove that server or opt out", gw.Ref));
                    break;
                }
            }
        }

        return result;
    }

    private static List<EgressObject> Build(ServiceEntry entry, GatewayServiceRef gateway, Service service, List<PlannedPort> ports)
    {
        var hosts = entry.Spec.Hosts;
        var http = ports.Where(p => !p.Tls).ToList();
        var tls = ports.Where(p => p.Tls).ToList();

        // HTTP and PASSTHROUGH servers go to separate Gateways when the entry has both: a VirtualService bound to a
        // Gateway with a PASSTHROUGH server may route it with tls/tcp rules only (EGW105a), so the http leg must
        // not be bound to the Gateway that carries the passthrough server
        var tlsGatewayName = Names.Gateway(entry);
        var httpGatewayName = tls.Count > 0 ? Names.HttpGateway(entry) : Names.Gateway(entry);
        var toGateway = (int port) => new Destination { Host = gateway.Host, Port = new PortSelector { Number = port } };
        var objects = new List<EgressObject>();
        foreach (var (name, servers) in new[] { (tlsGatewayName, tls), (httpGatewayName, http) })
        {
            if (servers.Count == 0)
            {
                continue;
            }

            objects.Add(new Gateway
            {
                ApiVersion = ApiVersion,
                Metadata = Meta(entry, name),
                Spec = new GatewaySpec
                {
                    Selector = service.Spec.Selector,
                    Servers = servers.Select(p => new GatewayServer
                    {
                        Port = new ServicePortSpec
                        {
                            Number = p.GatewayPort,
                            Name = $"{(p.Tls ? "tls" : "http")}-{p.GatewayPort}",
                            Protocol = p.Tls ? Protocols.Tls : Protocols.Http,
                        },
                        Hosts = hosts,
                        Tls = p.Tls ? new ServerTlsSettings { Mode = ServerTlsModes.Passthrough } : null,
                    }).ToArray(),
                },
            });
        }

        objects.Add(new VirtualService
        {
            ApiVersion = ApiVersion,
            Metadata = Meta(entry, Names.MeshLeg(entry)),
            Spec = new VirtualServiceSpec
            {
                Hosts = hosts,
                Gateways = [GatewayRefs.Mesh],
                Http = http.Select(p => new HttpRoute
                {
                    Match = [new HttpMatchRequest { Port = p.Port.Number }],
                    Route = [new HttpRouteDestination { Destination = toGateway(p.GatewayPort) }],
                }).ToArray(),
                Tls = tls.Select(p => new TlsRoute
                {
                    Match = [new TlsMatchAttributes { Port = p.Port.Number, SniHosts = hosts }],
                    Route = [new RouteDestination { Destination = toGateway(p.GatewayPort) }],
                }).ToArray(),
            },
        });

        if (tls.Count > 0)
        {
            objects.Add(new VirtualService
            {
                ApiVersion = ApiVersion,
                Metadata = Meta(entry, Names.TlsLeg(entry)),
                Spec = new VirtualServiceSpec
                {
                    Hosts = hosts,
                    Gateways = [tlsGatewayName],
                    Tls = tls.SelectMany(p => hosts.Select(h => new TlsRoute
                    {
                        Match = [new TlsMatchAttributes { Port = p.GatewayPort, SniHosts = [h] }],
                        Route = [new RouteDestination { Destination = new Destination { Host = h, Port = new PortSelector { Number = p.DestinationPort } } }],
                    })).ToArray(),
                },
            });
        }

        if (http.Count > 0)
        {
            // one VirtualService per host: an http rule has no SNI, and a route to one host would carry them all
            for (var i = 0; i < hosts.Count; i++)
            {
                var h = hosts[i];
                objects.Add(new VirtualService
                {
                    ApiVersion = ApiVersion,
                    Metadata = Meta(entry, Names.HttpLeg(entry, i)),
                    Spec = new VirtualServiceSpec
                    {
                        Hosts = [h],
                        Gateways = [httpGatewayName],
                        Http = http.Select(p => new HttpRoute
                        {
                            Match = [new HttpMatchRequest { Port = p.GatewayPort }],
                            Route = [new HttpRouteDestination { Destination = new Destination { Host = h, Port = new PortSelector { Number = p.DestinationPort } } }],
                        }).ToArray(),
                    },
                });
            }
        }

        // The DestinationRule for the gateway host, in the entry's namespace. Deliberately without subsets: subsets are
        // looked up in the client's namespace, then the host's (istio-system), then the root namespace (Istio's docs
        // copy the DR into each client namespace for this reason), so a mesh leg routing to a subset defined here would
        // fail for every client outside this namespace, while the entry is visible to all of them.
        objects.Add(new DestinationRule
        {
            ApiVersion = ApiVersion,
            Metadata = Meta(entry, Names.GatewayRule(entry)),
            Spec = new DestinationRuleSpec { Host = gateway.Host },
        });

        var originated = http.Where(p => p.DestinationPort != p.Port.Number).Select(p => p.DestinationPort).Distinct().ToList();
        if (originated.Count > 0)
        {
            entry.Metadata.Annotations.TryGetValue(RoutingAnnotations.CaCertificates, out var ca);
            for (var i = 0; i < hosts.Count; i++)
            {
                var h = hosts[i];
                objects.Add(new DestinationRule
                {
                    ApiVersion = ApiVersion,
                    Metadata = Meta(entry, Names.Origination(entry, i)),
                    Spec = new DestinationRuleSpec
                    {
                        Host = h,
                        // only the gateway's namespace sees it: sidecars keep passing the application's TLS through
                        ExportTo = [gateway.Namespace],
                        TrafficPolicy = new TrafficPolicy
                        {
                            PortLevelSettings = originated.Select(port => new PortTrafficPolicy
                            {
                                Port = new PortSelector { Number = port },
                                Tls = new ClientTlsSettings { Mode = ClientTlsModes.Simple, Sni = h, CaCertificates = string.IsNullOrEmpty(ca) ? null : ca },
                            }).ToArray(),
                        },
                    },
                });
            }
        }

        return objects;
    }

    private static ObjectMeta Meta(ServiceEntry entry, string name) => new()
    {
        Name = name,
        Namespace = entry.Namespace,
        Labels = new Dictionary<string, string> { [ManagedBy.Label] = ManagedBy.Value },
        OwnerReferences = string.IsNullOrEmpty(entry.Metadata.Uid)
            ? []
            :
            [
                new OwnerReference
                {
                    ApiVersion = ApiVersion,
                    Kind = "ServiceEntry",
                    Name = entry.Name,
                    Uid = entry.Metadata.Uid,
                    Controller = true,
                    BlockOwnerDeletion = true,
                },
            ],
    };

    private static Finding Notice(string rule, ServiceEntry entry, string path, string message, params ObjectRef[] related) =>
        new(rule, Severity.Warning, entry.Ref, path, Finding.Clamp(message), related);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.IgnoreCase)]
    private static partial Regex DnsName();
}
