using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Tests.Serialization;

public sealed class KindTableTests
{
    [Fact]
    public void EveryModelKind_HasARow_AndEveryRowIsFoundByItsPreferredApiVersion()
    {
        Assert.All(Enum.GetValues<ResourceKind>(), k => Assert.Contains(KindTable.All, r => r.Kind == k));
        Assert.All(KindTable.All, r => Assert.Same(r, KindTable.Find(r.PreferredApiVersion, r.KindName)));
        // (group, kind) is the key: two rows for one would make the decoder's choice depend on row order
        Assert.Equal(KindTable.All.Count, KindTable.All.Select(r => (r.Group, r.KindName)).Distinct().Count());
    }

    [Theory]
    [InlineData("networking.istio.io/v1alpha3", "Sidecar", ResourceKind.Sidecar)]
    [InlineData("networking.istio.io/v9", "Gateway", ResourceKind.Gateway)]
    [InlineData("v1", "ConfigMap", ResourceKind.MeshConfig)]
    [InlineData("install.istio.io/v1alpha1", "IstioOperator", ResourceKind.MeshConfig)]
    [InlineData("gateway.networking.k8s.io/v1beta1", "HTTPRoute", ResourceKind.GatewayApiRoute)]
    // issue 17: the Gateway API Gateway (waypoints, Gateway API egress) is read, told from Istio's Gateway by its group
    [InlineData("gateway.networking.k8s.io/v1", "Gateway", ResourceKind.GatewayApiGateway)]
    [InlineData("gateway.networking.k8s.io/v1beta1", "ReferenceGrant", ResourceKind.ReferenceGrant)]
    [InlineData("security.istio.io/v1", "AuthorizationPolicy", ResourceKind.AuthorizationPolicy)]
    public void Find_MatchesGroupAndKind_AnyVersionOutsideTheCoreGroup(string apiVersion, string kind, ResourceKind expected)
    {
        Assert.Equal(expected, KindTable.Find(apiVersion, kind)?.Kind);
    }

    [Theory]
    [InlineData("v2", "Service")]
    [InlineData("networking.istio.io", "Gateway")]
    [InlineData("apps/v1", "Deployment")]
    [InlineData("v1", "Gateway")]
    [InlineData("gateway.networking.k8s.io/v1", "GatewayClass")]
    [InlineData("security.istio.io/v1", "PeerAuthentication")]
    public void Find_OtherKinds_Null(string apiVersion, string kind)
    {
        Assert.Null(KindTable.Find(apiVersion, kind));
    }

    [Fact]
    public void WrittenKinds_RoundTripThroughTheirRow()
    {
        var se = new ServiceEntry { Metadata = new ObjectMeta { Name = "a", Namespace = "n" } };

        var json = ManifestWriter.ToJson(se);

        Assert.Equal("networking.istio.io/v1", (string?)json["apiVersion"]);
        Assert.Null(KindTable.Writer(ResourceKind.MeshConfig));
        Assert.Null(KindTable.Writer(ResourceKind.GatewayApiRoute));
        Assert.All(KindTable.All.Where(r => r.Write is not null), r => Assert.Same(r, KindTable.Writer(r.Kind)));
    }
}
