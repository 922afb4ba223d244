using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Mutation;

/// <summary>One egress chain for an external host and port, read from objects independently of the planner:
/// the ServiceEntry port, the mesh leg, the Gateway server it reaches and the gateway leg.</summary>
public sealed record EgressChain(
    string Host,
    int EntryPort,
    string Protocol,
    int MeshMatchPort,
    string MeshDestinationHost,
    int MeshDestinationPort,
    int ServerPort,
    string ServerProtocol,
    string? ServerTlsMode,
    string GatewayServiceKey,
    int GatewayMatchPort,
    string GatewayDestinationHost,
    int GatewayDestinationPort)
{
    /// <summary>Follows every link from the mesh leg for <paramref name="host"/> on <paramref name="entryPort"/> to the
    /// external destination; fails with the broken link.</summary>
    public static EgressChain Follow(IEnumerable<EgressObject> objects, string host, int entryPort)
    {
        var all = objects.ToList();
        var view = SnapshotView.Of(EgressSnapshot.Create(all));
        var entry = all.OfType<ServiceEntry>().Single(se => se.Spec.Hosts.Contains(host));
        var port = entry.Spec.Ports.Single(p => p.Number == entryPort);
        var tls = Protocols.IsTls(port.Protocol);

        var mesh = view.VirtualServices(host).Select(m => m.Item).Where(vs => GatewayRefs.Of(vs).Contains(GatewayRefs.Mesh)).ToList();
        var meshVs = Assert.Single(mesh);
        var (meshMatchPort, meshDest) = tls
            ? meshVs.Spec.Tls.Where(r => r.Match.Any(m => m.Port == entryPort && m.SniHosts.Contains(host)))
                .Select(r => (entryPort, Assert.Single(r.Route).Destination!)).Single()
            : meshVs.Spec.Http.Where(r => r.Match.Any(m => m.Port == entryPort)).Select(r => (entryPort, Assert.Single(r.Route).Destination!)).Single();
        var meshDestHost = HostName.Resolve(meshDest.Host, meshVs.Namespace);
        var gatewayService = Assert.Single(view.Services(meshDestHost)).Item;
        var meshDestPort = meshDest.Port!.Number!.Value;
        Assert.Contains(gatewayService.Spec.Ports, p => p.Port == meshDestPort);
        if (meshDest.Subset is { } subset)
        {
            Assert.Contains(view.DestinationRules(meshDestHost), m => m.Item.Namespace == meshVs.Namespace && m.Item.Spec.Subsets.Any(s => s.Name == subset));
        }

        // the gateway leg: a VirtualService bound to a Gateway that selects the gateway Service's workload
        var legs = (from m in view.VirtualServices(host)
                    let vs = m.Item
                    from g in GatewayRefs.Of(vs)
                    where g != GatewayRefs.Mesh
                    let gw = view.Gateway(g)
                    where gw is not null && SnapshotView.Contains(gatewayService.Spec.Selector, gw.Spec.Selector) && gw.Spec.Selector.Count > 0
                    select (vs, gw)).ToList();
        var (gatewayVs, gateway) = Assert.Single(legs, l => tls ? l.vs.Spec.Tls.Count > 0 : l.vs.Spec.Http.Count > 0);
        var server = Assert.Single(gateway.Spec.Servers, s => s.Port?.Number == meshDestPort && s.Hosts.Any(h => HostName.Matches(h, host)));
        var (gwMatchPort, gwDest) = tls
            ? gatewayVs.Spec.Tls.Where(r => r.Match.Any(m => m.SniHosts.Contains(host)))
                .Select(r => (r.Match.Single().Port ?? server.Port!.Number, Assert.Single(r.Route).Destination!)).Single()
            : gatewayVs.Spec.Http.Select(r => (r.Match.Single().Port ?? server.Port!.Number, Assert.Single(r.Route).Destination!)).Single();
        var gwDestHost = HostName.Resolve(gwDest.Host, gatewayVs.Namespace);
        var gwDestPort = gwDest.Port?.Number ?? Assert.Single(entry.Spec.Ports).Number;
        Assert.Contains(entry.Spec.Ports, p => p.Number == gwDestPort);
        Assert.Contains(EgressSnapshot.HostsOf(entry), h => h == gwDestHost);

        return new EgressChain(host, entryPort, port.Protocol!.ToUpperInvariant(), meshMatchPort, meshDestHost, meshDestPort,
            server.Port!.Number, server.Port.Protocol!.ToUpperInvariant(), server.Tls?.EffectiveMode, $"{gatewayService.Namespace}/{gatewayService.Name}",
            gwMatchPort, gwDestHost, gwDestPort);
    }

    /// <summary>The links every chain must satisfy (the catalogue's EGW102, EGW105, EGW106, EGW115 for this chain).</summary>
    public void AssertConsistent(Service gatewayService, ServiceEntry entry)
    {
        Assert.Contains(gatewayService.Spec.Ports, p => p.Port == ServerPort);
        Assert.Equal(ServerPort, MeshDestinationPort);
        Assert.Equal(ServerPort, GatewayMatchPort);
        Assert.Equal(EntryPort, MeshMatchPort);
        Assert.Contains(entry.Spec.EffectiveResolution, new[] { Resolutions.Dns, Resolutions.DnsRoundRobin });
        if (Protocols.IsTls(Protocol))
        {
            Assert.Equal(Protocols.Tls, ServerProtocol);
            Assert.Equal(ServerTlsModes.Passthrough, ServerTlsMode);
            Assert.Equal(EntryPort, GatewayDestinationPort);
        }
        else
        {
            Assert.Equal(Protocols.Http, ServerProtocol);
        }
    }
}
