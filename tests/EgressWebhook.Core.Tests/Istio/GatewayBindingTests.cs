using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Istio;

/// <summary><see cref="EgressSnapshot.IsBoundTo"/> and <see cref="GatewayRefs.RefersTo"/> answer what
/// <see cref="EgressSnapshot.BoundGateways"/> and <see cref="GatewayRefs.Resolve"/> say, without building strings.</summary>
public sealed class GatewayBindingTests
{
    private static readonly string[] References =
        ["mesh", "gw", "egress/gw", "gw.egress", "gw.egress.svc.cluster.local", "other/gw", "team/gw", "g", "teamx/gw", "gw2"];

    private static readonly string[] Resolved = ["mesh", "team/gw", "egress/gw", "other/gw", "team/g", "teamx/gw", "team/gw2", "team/", "/gw"];

    [Fact]
    public void RefersTo_AgreesWithResolve()
    {
        foreach (var reference in References)
        {
            foreach (var resolved in Resolved)
            {
                Assert.True(GatewayRefs.RefersTo(reference, "team", resolved) == (GatewayRefs.Resolve(reference, "team") == resolved), $"{reference} vs {resolved}");
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("gateways: [gw, mesh]")]
    [InlineData("gateways: [egress/gw]")]
    public void IsBoundTo_AgreesWithBoundGateways(string specGateways)
    {
        var vs = (VirtualService)ManifestReader.Read($$$"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: v, namespace: team}
            spec:
              hosts: [api.example.com]
              {{{specGateways}}}
              http:
              - match: [{gateways: [other/gw]}, {port: 80}]
                route: [{destination: {host: api.example.com}}]
              tls:
              - match: [{port: 443, sniHosts: [api.example.com], gateways: [gw.egress]}]
                route: [{destination: {host: api.example.com}}]
            """).Single();

        var bound = EgressSnapshot.BoundGateways(vs).ToHashSet();
        foreach (var resolved in Resolved)
        {
            Assert.True(EgressSnapshot.IsBoundTo(vs, resolved) == bound.Contains(resolved), $"{specGateways}: {resolved}");
        }
    }

    [Theory]
    [InlineData("istio-egressgateway", "istio-system")]
    [InlineData("a", "b")]
    [InlineData("a.b", "c")]
    public void IsHostOf_AgreesWithHostOf(string name, string ns)
    {
        var svc = new Service { Metadata = new ObjectMeta { Name = name, Namespace = ns } };
        string[] hosts = [EgressSnapshot.HostOf(svc), $"{name}.{ns}.svc.cluster.loca", $"{name}x.{ns}.svc.cluster.local", $"{name}.{ns}x.svc.cluster.local",
            $"{name}.{ns}.svc.cluster.localx", $"{name}", "a.b.c.svc.cluster.local", $"{ns}.{name}.svc.cluster.local"];

        foreach (var host in hosts)
        {
            Assert.True(EgressSnapshot.IsHostOf(host, svc) == (host == EgressSnapshot.HostOf(svc)), host);
        }
    }
}
