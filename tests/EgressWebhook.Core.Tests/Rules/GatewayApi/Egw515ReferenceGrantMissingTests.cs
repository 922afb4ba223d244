using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.GatewayApi.GatewayApiFixtures;

namespace EgressWebhook.Core.Tests.Rules.GatewayApi;

/// <summary>EGW515: a Service backend in another namespace needs a ReferenceGrant there (Istio's mTLS origination task,
/// Gateway API tab).</summary>
public sealed class Egw515ReferenceGrantMissingTests
{
    private static readonly string MyNginx = Service("my-nginx", "mesh-external");

    private static string ForwardToNginx(string backendNamespace = "mesh-external", string kind = "HTTPRoute", string backendExtra = "") => Route(
        "forward-nginx-from-egress-gateway", "[{name: nginx-egressgateway}]",
        $"[{{name: my-nginx{(backendNamespace.Length > 0 ? $", namespace: {backendNamespace}" : "")}, port: 443{backendExtra}}}]",
        kind, "[my-nginx.mesh-external.svc.cluster.local]");

    private static string Grant(string fromNamespace = "default", string fromKind = "HTTPRoute", string toName = "my-nginx", string ns = "mesh-external",
        string fromGroup = "gateway.networking.k8s.io", string toKind = "Service") => $$"""
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: my-nginx-reference-grant, namespace: {{ns}}}
        spec:
          from: [{group: {{fromGroup}}, kind: {{fromKind}}, namespace: {{fromNamespace}}}]
          to: [{group: "", kind: {{toKind}}{{(toName.Length > 0 ? $", name: {toName}" : "")}}}]
        """;

    private static List<Finding> Egw515(EgressReport report) => Of(report, RuleIds.ReferenceGrantMissing);

    [Fact]
    public void Egw515_CrossNamespaceBackendWithoutGrant_IsAnErrorOnTheNamespace()
    {
        var report = Check(MyNginx, ForwardToNginx());

        var finding = Assert.Single(Egw515(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("GatewayApiRoute", "default", "forward-nginx-from-egress-gateway"), finding.Object);
        Assert.Equal("spec.rules[0].backendRefs[0].namespace", finding.Path);
        Assert.Equal("RefNotPermitted: no ReferenceGrant in mesh-external lets HTTPRoutes of default use Service my-nginx; add one", finding.Message);
        Assert.Equal(ResourceKind.ReferenceGrant, finding.Awaits?.Kind);
        Assert.Equal("a ReferenceGrant in mesh-external for HTTPRoute from default", finding.Awaits?.What);
    }

    [Theory]
    [InlineData("my-nginx")]
    [InlineData("")] // no name: every Service of the namespace
    public void Egw515_NearMiss_GrantAdmitsTheRoute(string toName)
    {
        var report = Check(MyNginx, ForwardToNginx(), Grant(toName: toName));

        Assert.Empty(Egw515(report));
    }

    [Theory]
    [InlineData("default")] // written as the route's own namespace
    [InlineData("")] // unset: the route's namespace
    public void Egw515_NearMiss_SameNamespaceBackend(string backendNamespace)
    {
        var report = Check(Service("my-nginx", "default"), ForwardToNginx(backendNamespace));

        Assert.Empty(Egw515(report));
    }

    [Fact]
    public void Egw515_GrantForAnotherNamespace_DoesNotAdmit()
    {
        Assert.Single(Egw515(Check(MyNginx, ForwardToNginx(), Grant(fromNamespace: "team-b"))));
    }

    [Fact]
    public void Egw515_GrantForAnotherRouteKind_DoesNotAdmit()
    {
        var report = Check(MyNginx, ForwardToNginx(kind: "TLSRoute"), Grant(fromKind: "HTTPRoute"));

        Assert.Contains("lets TLSRoutes of default", Assert.Single(Egw515(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw515_GrantForAnotherService_DoesNotAdmit()
    {
        Assert.Single(Egw515(Check(MyNginx, ForwardToNginx(), Grant(toName: "other"))));
    }

    [Fact]
    public void Egw515_GrantInTheRoutesNamespace_DoesNotAdmit()
    {
        // the grant must be in the target's namespace
        Assert.Single(Egw515(Check(MyNginx, ForwardToNginx(), Grant(ns: "default"))));
    }

    [Fact]
    public void Egw515_GrantFromAnotherGroup_DoesNotAdmit()
    {
        Assert.Single(Egw515(Check(MyNginx, ForwardToNginx(), Grant(fromGroup: "example.com"))));
    }

    [Fact]
    public void Egw515_GrantToAnotherKind_DoesNotAdmit()
    {
        Assert.Single(Egw515(Check(MyNginx, ForwardToNginx(), Grant(toKind: "Secret"))));
    }

    [Fact]
    public void Egw515_NearMiss_HostnameBackendInAnotherNamespaceIsNoServiceReference()
    {
        var report = Check(ForwardToNginx(backendExtra: ", kind: Hostname, group: networking.istio.io"));

        Assert.Empty(Egw515(report));
    }
}
