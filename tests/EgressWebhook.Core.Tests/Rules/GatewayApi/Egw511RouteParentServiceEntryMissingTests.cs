using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.GatewayApi.GatewayApiFixtures;

namespace EgressWebhook.Core.Tests.Rules.GatewayApi;

/// <summary>EGW511: a route's ServiceEntry parent that does not exist.</summary>
public sealed class Egw511RouteParentServiceEntryMissingTests
{
    private static List<Finding> Egw511(EgressReport report) => Of(report, RuleIds.RouteParentServiceEntryMissing);

    [Fact]
    public void Egw511_ParentNamesTheEntrysHost_IsAnErrorNamingTheEntry()
    {
        var report = Check(Se(), FirstRoute("[{kind: ServiceEntry, group: networking.istio.io, name: edition.cnn.com}]"));

        var finding = Assert.Single(Egw511(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("GatewayApiRoute", "default", "direct-cnn-to-egress-gateway"), finding.Object);
        Assert.Equal("spec.parentRefs[0].name", finding.Path);
        Assert.Equal("no ServiceEntry default/edition.cnn.com: the route intercepts nothing; use its name cnn (host edition.cnn.com)", finding.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "default", "cnn")], finding.Related);
        Assert.Equal(new ObjectKey(ResourceKind.ServiceEntry, "default", "edition.cnn.com"), finding.Awaits?.Key);
    }

    [Fact]
    public void Egw511_NearMiss_ParentIsTheEntrysName()
    {
        var report = Check(Se(), FirstRoute());

        Assert.Empty(Egw511(report));
    }

    [Fact]
    public void Egw511_NoEntryOfThatHostEither_FixIsCreateOrRename()
    {
        var report = Check(Se(), FirstRoute("[{kind: ServiceEntry, group: networking.istio.io, name: cnn-typo}]"));

        var finding = Assert.Single(Egw511(report));
        Assert.EndsWith("; create it or fix the name", finding.Message, StringComparison.Ordinal);
        Assert.Empty(finding.Related);
    }

    [Fact]
    public void Egw511_EntryOfTheHostInAnotherNamespace_IsNotTheOneMeant()
    {
        var report = Check(Se(ns: "other"), FirstRoute("[{kind: ServiceEntry, group: networking.istio.io, name: edition.cnn.com}]"));

        Assert.EndsWith("; create it or fix the name", Assert.Single(Egw511(report)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("egress", "egress", false)]
    [InlineData("default", "egress", true)] // the parent's namespace, not the route's
    [InlineData("egress", "", true)] // unset: the route's namespace
    public void Egw511_ParentNamespace(string entryNamespace, string parentNamespace, bool fires)
    {
        var parent = parentNamespace.Length > 0
            ? $"[{{kind: ServiceEntry, group: networking.istio.io, name: cnn, namespace: {parentNamespace}}}]"
            : SeParent;

        var report = Check(Se(ns: entryNamespace), FirstRoute(parent));

        Assert.Equal(fires, Egw511(report).Count == 1);
    }

    [Theory]
    [InlineData("[{name: nothing}]")] // a Gateway parent is EGW513's
    [InlineData("[{kind: ServiceEntry, group: example.com, name: nothing}]")] // not Istio's ServiceEntry
    [InlineData("[{kind: ServiceEntry, name: nothing}]")] // no group: not networking.istio.io
    public void Egw511_NearMiss_OtherParentKinds(string parents)
    {
        var report = Check(Se(), FirstRoute(parents));

        Assert.Empty(Egw511(report));
    }

    [Fact]
    public void Egw511_SecondParentMissing_PointsAtIt()
    {
        var report = Check(Se(), FirstRoute("[{kind: ServiceEntry, group: networking.istio.io, name: cnn}, {kind: ServiceEntry, group: networking.istio.io, name: gone}]"));

        var finding = Assert.Single(Egw511(report));
        Assert.Equal("spec.parentRefs[1].name", finding.Path);
        Assert.StartsWith("no ServiceEntry default/gone:", finding.Message, StringComparison.Ordinal);
    }
}
