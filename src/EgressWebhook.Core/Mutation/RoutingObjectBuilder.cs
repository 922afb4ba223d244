using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Mutation;

/// <summary>Builds the objects of an eligible entry's routing from its planned ports: the Gateway(s), the mesh →
/// gateway and gateway → external VirtualService legs, the gateway DestinationRule and, with TLS origination, the
/// origination DestinationRules. Every object is labelled managed-by and, when the entry has a uid, owned by it.</summary>
internal static class RoutingObjectBuilder
{
    public static List<EgressObject> Build(ServiceEntry entry, GatewayServiceRef gateway, Service service, List<RoutingPorts.PlannedPort> ports)
    {
        var hosts = entry.Spec.Hosts;
        var http = ports.Where(p => !p.Tls).ToList();
        var tls = ports.Where(p => p.Tls).ToList();

        // HTTP and PASSTHROUGH servers go to separate Gateways when the entry has both: a VirtualService bound to a
        // Gateway with a PASSTHROUGH server may route it with tls/tcp rules only (EGW105a), so the http leg must
        // not be bound to the Gateway that carries the passthrough server
        var tlsGatewayName = RoutingPlanner.Names.Gateway(entry);
        var httpGatewayName = tls.Count > 0 ? RoutingPlanner.Names.HttpGateway(entry) : RoutingPlanner.Names.Gateway(entry);
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
                ApiVersion = RoutingPlanner.ApiVersion,
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
            ApiVersion = RoutingPlanner.ApiVersion,
            Metadata = Meta(entry, RoutingPlanner.Names.MeshLeg(entry)),
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
                ApiVersion = RoutingPlanner.ApiVersion,
                Metadata = Meta(entry, RoutingPlanner.Names.TlsLeg(entry)),
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
                    ApiVersion = RoutingPlanner.ApiVersion,
                    Metadata = Meta(entry, RoutingPlanner.Names.HttpLeg(entry, i)),
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
            ApiVersion = RoutingPlanner.ApiVersion,
            Metadata = Meta(entry, RoutingPlanner.Names.GatewayRule(entry)),
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
                    ApiVersion = RoutingPlanner.ApiVersion,
                    Metadata = Meta(entry, RoutingPlanner.Names.Origination(entry, i)),
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
                    ApiVersion = RoutingPlanner.ApiVersion,
                    Kind = "ServiceEntry",
                    Name = entry.Name,
                    Uid = entry.Metadata.Uid,
                    Controller = true,
                    BlockOwnerDeletion = true,
                },
            ],
    };
}
