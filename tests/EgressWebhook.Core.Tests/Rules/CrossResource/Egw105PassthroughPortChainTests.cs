using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.CrossResource;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

public sealed class Egw105PassthroughPortChainTests
{
    private const string TwoServerGateway = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: proxy
        spec:
          selector:
            istio: egressgateway
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [edition.cnn.com]
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: [edition.cnn.com]
            tls: {mode: PASSTHROUGH}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: cnn
        spec:
          hosts: [edition.cnn.com]
          ports:
          - {number: 80, name: http, protocol: HTTP}
          - {number: 443, name: tls, protocol: TLS}
          resolution: DNS
        """;

    private static IReadOnlyList<Finding> Egw105(IEnumerable<EgressObject> objects) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default).Findings
            .Where(f => f.Rule == RuleIds.PassthroughPortChain).ToList();

    private static VirtualService HttpLeg(string match) => (VirtualService)ManifestReader.Read($$$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: via-proxy
        spec:
          hosts: [edition.cnn.com]
          gateways: [proxy]
          http:
          - {{{match}}}
            route:
            - destination: {host: edition.cnn.com, port: {number: 80}}
        """).Single();

    [Fact]
    public void Check_HttpRuleForPortOfHttpServer_IsAccepted()
    {
        var objects = ManifestReader.Read(TwoServerGateway).Append(HttpLeg("match: [{port: 80}]"));

        Assert.Empty(Egw105(objects));
    }

    [Fact]
    public void Check_HttpRuleWithoutPortOnGatewayWithAnHttpServer_IsAccepted()
    {
        // the rule also applies to the HTTP server on 80, where it does match
        var objects = ManifestReader.Read(TwoServerGateway).Append(HttpLeg("match: [{uri: {prefix: /}}]"));

        Assert.Empty(Egw105(objects));
    }

    [Fact]
    public void Check_HttpRuleForPortOfPassthroughServer_ReportsError()
    {
        var objects = ManifestReader.Read(TwoServerGateway).Append(HttpLeg("match: [{port: 443}]"));

        var finding = Assert.Single(Egw105(objects));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("spec.http[0]", finding.Path);
    }

    [Fact]
    public void Check_HttpRuleOnPortOfNoServerOfPassthroughOnlyGateway_ReportsError()
    {
        var gatewayOnlyPassthrough = TwoServerGateway.Replace("""
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]

            """, "", StringComparison.Ordinal);
        var objects = ManifestReader.Read(gatewayOnlyPassthrough).Append(HttpLeg("match: [{port: 8080}]"));

        var finding = Assert.Single(Egw105(objects));
        Assert.Equal("spec.http[0]", finding.Path);
    }

    [Fact]
    public void Check_ServerOnTargetPortReachedThroughServicePort_IsAccepted()
    {
        // the Service maps 443 to 8443: a server declared on 8443 receives what the sidecars send to 443
        var objects = Seed.Objects().Select(o => o switch
        {
            Gateway gw => gw with { Spec = gw.Spec with { Servers = [gw.Spec.Servers[0] with { Port = gw.Spec.Servers[0].Port! with { Number = 8443 } }] } },
            VirtualService { Name: "egressgateway-to-external" } vs =>
                vs with { Spec = vs.Spec with { Tls = [vs.Spec.Tls[0] with { Match = [vs.Spec.Tls[0].Match[0] with { Port = 8443 }] }] } },
            _ => o,
        });

        Assert.Empty(Egw105(objects));
    }

    [Fact]
    public void Check_MeshLegToHttpPortOfGatewayService_ReportsErrorOnMeshLeg()
    {
        var objects = Seed.Objects().Select(o => o is VirtualService { Name: "mesh-to-egress-gateway" } vs
            ? vs with { Spec = vs.Spec with { Tls = [vs.Spec.Tls[0] with { Route = [new RouteDestination { Destination = vs.Spec.Tls[0].Route[0].Destination! with { Port = new PortSelector { Number = 80 } } }] }] } }
            : o);

        var finding = Assert.Single(Egw105(objects));
        Assert.Equal("mesh-to-egress-gateway", finding.Object.Name);
        Assert.Equal("spec.tls[0].route[0].destination.port.number", finding.Path);
        Assert.Contains(new ObjectRef("Service", "istio-system", "istio-egressgateway"), finding.Related);
    }

    [Fact]
    public void Check_MutualServer_IsNeverChecked()
    {
        // TLS origination / mTLS at the gateway terminates TLS, so the leg's ports may legitimately differ
        var objects = Seed.Objects().Select(o => o switch
        {
            Gateway gw => gw with { Spec = gw.Spec with { Servers = [gw.Spec.Servers[0] with { Tls = new ServerTlsSettings { Mode = ServerTlsModes.IstioMutual } }] } },
            VirtualService { Name: "egressgateway-to-external" } vs =>
                vs with { Spec = vs.Spec with { Tls = [vs.Spec.Tls[0] with { Match = [vs.Spec.Tls[0].Match[0] with { Port = 8443 }] }] } },
            _ => o,
        });

        Assert.Empty(Egw105(objects));
    }

    [Fact]
    public void AffectedBy_Gateway_ReturnsBothLegsThroughTheIndexes()
    {
        var snapshot = EgressSnapshot.Create(Seed.Objects());
        var gateway = snapshot.Find(new ObjectKey(ResourceKind.Gateway, "default", "istio-egressgateway"))!;

        var affected = new Egw105PassthroughPortChain().AffectedBy(gateway, SnapshotView.Of(snapshot)).Select(o => o.Name).Distinct().Order();

        Assert.Equal(["egressgateway-to-external", "mesh-to-egress-gateway"], affected);
    }

    [Fact]
    public void CheckChange_GatewayMovesServerPort_ReportsFindingOnBoundVirtualService()
    {
        var snapshot = EgressSnapshot.Create(Seed.Objects());
        var old = (Gateway)snapshot.Find(new ObjectKey(ResourceKind.Gateway, "default", "istio-egressgateway"))!;
        var updated = old with { Spec = old.Spec with { Servers = [old.Spec.Servers[0] with { Port = old.Spec.Servers[0].Port! with { Number = 8443 } }] } };

        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Update, updated, old), RuleSettings.Default);

        var finding = Assert.Single(report.Findings, f => f.Rule == RuleIds.PassthroughPortChain);
        Assert.Equal(new ObjectRef("VirtualService", "default", "egressgateway-to-external"), finding.Object);
        Assert.False(report.Allowed);
    }
}
