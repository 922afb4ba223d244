using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW107: subsets looked up along the DestinationRule path.</summary>
public sealed class Egw107SubsetNotFoundTests
{
    [Theory]
    [InlineData("bookinfo", "", false)] // the host's namespace
    [InlineData("frontend", "", false)] // the client's namespace
    [InlineData("istio-system", "", false)] // the root namespace
    [InlineData("team-b", "", true)] // off the path
    [InlineData("bookinfo", "  exportTo: [\".\"]", true)] // on the path but not exported to the client
    public void Egw107_LookupPath(string drNamespace, string exportTo, bool fires)
    {
        var report = Check(Reviews, Dr(drNamespace, "reviews.bookinfo.svc.cluster.local", "v1", exportTo), ReviewsVs());

        Assert.Equal(fires, Of(report, RuleIds.SubsetNotFound).Any(f => f.Object.Kind == "VirtualService" && f.Severity == Severity.Error));
    }

    [Fact]
    public void Egw107_SubsetOnlyInTheVirtualServiceNamespace_WarnsForClientsInOtherNamespaces()
    {
        // istio/istio#15556: the mesh route applies in bookinfo too (it holds an object, so it has clients), and bookinfo
        // looks its DestinationRules up from bookinfo: the one in frontend is not on that path
        var report = Check(Reviews, Dr("frontend", "reviews.bookinfo.svc.cluster.local", "v1"), ReviewsVs());

        var finding = Assert.Single(Of(report, RuleIds.SubsetNotFound));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Contains("clients in bookinfo", finding.Message, StringComparison.Ordinal);
        Assert.Contains(new ObjectRef("DestinationRule", "frontend", "dr"), finding.Related);
    }

    [Fact]
    public void Egw107_SubsetInTheHostNamespace_NoWarningForOtherClients()
    {
        var report = Check(Reviews, Dr("bookinfo", "reviews.bookinfo.svc.cluster.local", "v1"), ReviewsVs(),
            Vs("other.example.com", "other.example.com", ns: "team-c"));

        Assert.Empty(Of(report, RuleIds.SubsetNotFound));
    }

    [Fact]
    public void Egw107_ClientNamespaceRuleWithoutSubset_HidesTheHostNamespaceRule()
    {
        var report = Check(Reviews, Dr("bookinfo", "reviews.bookinfo.svc.cluster.local", "v1"),
            Dr("frontend", "reviews.bookinfo.svc.cluster.local", "v2"), ReviewsVs());

        var finding = Assert.Single(Of(report, RuleIds.SubsetNotFound));
        Assert.Contains("frontend/dr", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw107_DottedHostIsTakenAsWritten()
    {
        // reviews.bookinfo is not reviews.bookinfo.svc.cluster.local (Istio's ResolveShortnameToFQDN)
        var report = Check(Reviews, Dr("bookinfo", "reviews", "v1"), ReviewsVs("reviews.bookinfo"));

        Assert.Contains(Of(report, RuleIds.SubsetNotFound), f => f.Path == "spec.tls[0].route[0].destination.subset");
    }

    [Fact]
    public void Egw107_RuleInTheServiceEntrysNamespace_IsOnThePath()
    {
        var report = Check(Se("se", "api.example.com", ns: "egress"), Dr("egress", "api.example.com", "v1"),
            Vs("api.example.com", "api.example.com", ns: "apps", destExtra: "subset: v1, port: {number: 443}"));

        Assert.Empty(Of(report, RuleIds.SubsetNotFound));
    }

    [Fact]
    public void Egw107_DestinationRuleHostNotRegistered_Warns()
    {
        var report = Check(Dr("default", "fake.default.svc.cluster.local", "v1"), Dr("istio-system", "*.local", "v1").Replace("name: dr", "name: mesh", StringComparison.Ordinal));

        var finding = Assert.Single(Of(report, RuleIds.SubsetNotFound));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("spec.host", finding.Path);
    }
}
