using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW304: the exportTo values objects of a selected namespace may use; unset is the mesh default.</summary>
public sealed class Egw304ExportToTests
{
    private static readonly string SelfOnly = PolicyYaml("self-only", "exportTo: {allowed: [self]}");

    private static List<Finding> Egw304(EgressReport report) => Of(report, RuleIds.PolicyExportTo);

    [Fact]
    public void Egw304_ExportToEverywhere_IsAnErrorOnTheEntry()
    {
        var report = Check(SelfOnly, Se("api", "api.example.com", extra: "exportTo: [\"*\"]"));

        var finding = Assert.Single(Egw304(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", Team, "api"), finding.Object);
        Assert.Equal("spec.exportTo[0]", finding.Path);
        Assert.Equal("exportTo * not allowed (allows self); set exportTo: [\".\"] (EgressPolicy self-only)", finding.Message);
        Assert.Equal("self-only", finding.Policy);
    }

    [Theory]
    [InlineData("[\".\"]")]
    [InlineData("[team-a]")] // its own namespace by name is self
    [InlineData("[\"~\"]")] // none is always allowed
    public void Egw304_NearMiss_ExportToSelf(string exportTo)
    {
        var report = Check(SelfOnly, Se("api", "api.example.com", extra: $"exportTo: {exportTo}"));

        Assert.Empty(Egw304(report));
    }

    [Fact]
    public void Egw304_Unset_IsTheMeshDefaultEverywhere()
    {
        var report = Check(SelfOnly, Se("api", "api.example.com"));

        var finding = Assert.Single(Egw304(report));
        Assert.Equal("spec.exportTo", finding.Path);
        Assert.StartsWith("unset exportTo (mesh default *) not allowed", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("defaultServiceExportTo", "ServiceEntry", false)]
    [InlineData("defaultVirtualServiceExportTo", "ServiceEntry", true)] // another kind's default does not apply
    [InlineData("defaultVirtualServiceExportTo", "VirtualService", false)]
    [InlineData("defaultServiceExportTo", "VirtualService", true)]
    [InlineData("defaultDestinationRuleExportTo", "DestinationRule", false)]
    [InlineData("defaultServiceExportTo", "DestinationRule", true)]
    public void Egw304_Unset_MeshDefaultOfTheKindDecides(string meshField, string kind, bool fires)
    {
        var obj = kind switch
        {
            "ServiceEntry" => Se("api", "api.example.com"),
            "VirtualService" => Vs("vs", "api.example.com", "api.example.com"),
            _ => Dr("dr", "api.example.com"),
        };

        var report = Check(SelfOnly, Mesh($"{meshField}: [\".\"]"), obj);

        Assert.Equal(fires, Egw304(report).Any(f => f.Object.Kind == kind && f.Path == "spec.exportTo"));
    }

    [Fact]
    public void Egw304_Unset_MeshDefaultNotAllowedEither_NamesIt()
    {
        var report = Check(SelfOnly, Mesh("defaultServiceExportTo: [istio-system]"), Se("api", "api.example.com"));

        Assert.StartsWith("unset exportTo (mesh default istio-system) not allowed", Assert.Single(Egw304(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw304_ListedNamespace_IsAllowed_OthersNot_FirstBadEntryOnly()
    {
        var policy = PolicyYaml("some", "exportTo: {allowed: [self, team-b]}");

        var report = Check(policy, Se("api", "api.example.com", extra: "exportTo: [\".\", team-b, team-c, team-d]"));

        var finding = Assert.Single(Egw304(report));
        Assert.Equal("spec.exportTo[2]", finding.Path);
        Assert.StartsWith("exportTo team-c not allowed (allows self,team-b)", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[\".\"]")]
    [InlineData("[team-a]")]
    public void Egw304_OwnNamespaceAllowedByName_AllowsDotAndTheName(string exportTo)
    {
        // "." in team-a exports to team-a, as [team-a] is self under [self]
        var report = Check(PolicyYaml("named", "exportTo: {allowed: [team-a]}"), Se("api", "api.example.com", extra: $"exportTo: {exportTo}"));

        Assert.Empty(Egw304(report));
    }

    [Fact]
    public void Egw304_OwnNamespaceNotAllowed_SuggestsWhatIs()
    {
        var report = Check(PolicyYaml("elsewhere", "exportTo: {allowed: [team-b, team-c]}"), Se("api", "api.example.com", extra: "exportTo: [\".\"]"));

        Assert.StartsWith("exportTo . not allowed; set exportTo: [team-b, team-c] (EgressPolicy elsewhere)",
            Assert.Single(Egw304(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw304_StarAllowed_AllowsEverything()
    {
        var report = Check(PolicyYaml("open", "exportTo: {allowed: [\"*\"]}"), Se("api", "api.example.com", extra: "exportTo: [team-x]"), Se("b", "b.example.com"));

        Assert.Empty(Egw304(report));
    }

    [Fact]
    public void Egw304_ManyAllowed_MessageShowsThree()
    {
        var policy = PolicyYaml("many", "exportTo: {allowed: [self, a, b, c]}");

        var report = Check(policy, Se("api", "api.example.com", extra: "exportTo: [\"*\"]"));

        Assert.Contains("(allows self,a,b,…)", Assert.Single(Egw304(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw304_VirtualServiceAndDestinationRule_AreJudged()
    {
        var report = Check(SelfOnly, Vs("vs", "api.example.com", "api.example.com", extra: "exportTo: [\"*\"]"), Dr("dr", "api.example.com", extra: "exportTo: [\"*\"]"));

        Assert.Equal(["DestinationRule", "VirtualService"], Egw304(report).Select(f => f.Object.Kind).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Egw304_NearMiss_OtherNamespaceOrNoGuard()
    {
        var report = Check(SelfOnly, PolicyYaml("no-guard", AllowExampleCom, ns: "team-b"),
            Se("api", "api.example.com", ns: "team-b", extra: "exportTo: [\"*\"]"));

        Assert.Empty(Egw304(report));
    }
}
