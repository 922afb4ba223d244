using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Tests.Istio;

public sealed class ServerHostBindingTests
{
    [Theory]
    [InlineData("edition.cnn.com", "team-a", true)]
    [InlineData("*/edition.cnn.com", "team-a", true)]
    [InlineData("./edition.cnn.com", "istio-system", true)]
    [InlineData("./edition.cnn.com", "team-a", false)]
    [InlineData("team-a/edition.cnn.com", "team-a", true)]
    [InlineData("team-b/edition.cnn.com", "team-a", false)]
    [InlineData("*/*.cnn.com", "team-a", true)]
    [InlineData("*/cnn.com", "team-a", false)]
    public void Admits_ServerHostForms_FollowIstioNamespaceRules(string serverHost, string vsNamespace, bool expected)
    {
        Assert.Equal(expected, ServerHostBinding.Admits(serverHost, "istio-system", vsNamespace, "edition.cnn.com"));
    }

    [Fact]
    public void HostsFor_TlsRule_UsesSniHostsOfMatchesForThatGateway()
    {
        var vs = (VirtualService)ManifestReader.Read("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: both-legs
            spec:
              hosts: ["*.wikipedia.org"]
              gateways: [mesh, istio-egressgateway]
              tls:
              - match:
                - {gateways: [mesh], port: 443, sniHosts: [en.wikipedia.org]}
                - {gateways: [istio-egressgateway], port: 443, sniHosts: [de.wikipedia.org]}
                route:
                - destination: {host: www.wikipedia.org}
            """).Single();

        var rule = Assert.Single(RouteRules.Of(vs));

        Assert.Equal(["en.wikipedia.org"], rule.HostsFor(vs, GatewayRefs.Mesh));
        Assert.Equal(["de.wikipedia.org"], rule.HostsFor(vs, "default/istio-egressgateway"));
        Assert.Equal([443], rule.PortsFor("default/istio-egressgateway"));
    }

    [Fact]
    public void HostsFor_TcpRule_UsesResolvedVirtualServiceHosts()
    {
        var vs = (VirtualService)ManifestReader.Read("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: db
              namespace: team-a
            spec:
              hosts: [db]
              tcp:
              - route:
                - destination: {host: db}
            """).Single();

        var rule = Assert.Single(RouteRules.Of(vs));

        Assert.Equal(["db.team-a.svc.cluster.local"], rule.HostsFor(vs, GatewayRefs.Mesh));
        Assert.Equal([null], rule.PortsFor(GatewayRefs.Mesh));
    }
}
