using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Snapshot;

public sealed class GatewayApiRouteTests
{
    private const string Routes = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: cnn-egress-gateway
        spec:
          gatewayClassName: istio
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TLSRoute
        metadata:
          name: direct
          namespace: shop
        spec:
          parentRefs:
          - kind: ServiceEntry
            group: networking.istio.io
            name: cnn
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: forward
        spec:
          parentRefs:
          - name: cnn-egress-gateway
          hostnames: ["*.cnn.com"]
          rules:
          - backendRefs:
            - kind: Hostname
              group: networking.istio.io
              name: edition.cnn.com
              port: 443
        """;

    [Fact]
    public void Read_GatewayApiObjects_DecodesRoutesOnlyWithTheirKind()
    {
        var objects = ManifestReader.Read(Routes);

        // issue 17 changed this: the Gateway API Gateway is read too (as its own kind, not as Istio's Gateway)
        Assert.Equal(["TLSRoute shop/direct", "HTTPRoute default/forward"], objects.OfType<GatewayApiRoute>().Select(r => r.Display));
        Assert.Equal("Gateway default/cnn-egress-gateway", Assert.IsType<GatewayApiGateway>(objects[0]).Display);
        Assert.Equal(3, objects.Count);
    }

    [Fact]
    public void Snapshot_RouteWithServiceEntryParent_IsFoundByTheEntry()
    {
        var view = SnapshotView.Of(EgressSnapshot.Create(ManifestReader.Read(Routes)));

        Assert.Equal("direct", Assert.Single(view.GatewayApiRoutesWithServiceEntryParent("shop", "cnn")).Name);
        Assert.Empty(view.GatewayApiRoutesWithServiceEntryParent("default", "cnn"));
    }

    [Fact]
    public void Snapshot_RouteHostnamesAndHostnameBackends_MatchHosts()
    {
        var view = SnapshotView.Of(EgressSnapshot.Create(ManifestReader.Read(Routes)));

        Assert.Contains(view.GatewayApiRoutes("www.cnn.com"), m => m.Item.Name == "forward");
        Assert.Contains(view.GatewayApiRoutes("edition.cnn.com"), m => m.Item.Name == "forward");
        Assert.Empty(view.GatewayApiRoutes("cnn.com"));
    }

    [Fact]
    public void View_WithAddedOrRemovedRoute_SeesTheChange()
    {
        var objects = ManifestReader.Read(Routes);
        var snapshot = EgressSnapshot.Create(objects.Where(o => o.Name != "direct"));
        var direct = objects.Single(o => o.Name == "direct");

        Assert.Single(SnapshotView.With(snapshot, direct).GatewayApiRoutesWithServiceEntryParent("shop", "cnn"));
        Assert.Empty(SnapshotView.Without(EgressSnapshot.Create(objects), direct.Key).GatewayApiRoutesWithServiceEntryParent("shop", "cnn"));
    }
}
