using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW307: MESH_INTERNAL only for cluster services, where the policy requires it.</summary>
public sealed class Egw307MeshInternalHostTests
{
    private static readonly string RequireClusterService = PolicyYaml("internal-guard", "meshInternal: {requireClusterService: true}");

    private static List<Finding> Egw307(EgressReport report) => Of(report, RuleIds.PolicyMeshInternalHost);

    private static string Internal(string host, string extra = "") =>
        Se("legacy", host, resolution: "NONE", extra: "location: MESH_INTERNAL" + (extra.Length > 0 ? "\n" + extra : ""));

    [Fact]
    public void Egw307_ExternalHostMeshInternal_IsAnErrorOnTheHost()
    {
        var report = Check(RequireClusterService, Internal("legacy.corp.example"));

        var finding = Assert.Single(Egw307(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("ServiceEntry", Team, "legacy"), finding.Object);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.StartsWith("legacy.corp.example is MESH_INTERNAL, no cluster Service: skips egress", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; use MESH_EXTERNAL (EgressPolicy internal-guard)", finding.Message, StringComparison.Ordinal);
        Assert.Equal("internal-guard", finding.Policy);
    }

    [Theory]
    [InlineData("reviews.team-a.svc.cluster.local")]
    [InlineData("reviews")] // a short name is the Service of the entry's namespace
    public void Egw307_NearMiss_ClusterServiceHost(string host)
    {
        var report = Check(RequireClusterService, Service("reviews", Team), Internal(host));

        Assert.Empty(Egw307(report));
    }

    [Fact]
    public void Egw307_ClusterLocalHostWithoutAService_Fires()
    {
        var report = Check(RequireClusterService, Service("other", Team), Internal("reviews.team-a.svc.cluster.local"));

        Assert.StartsWith("reviews.team-a.svc.cluster.local is MESH_INTERNAL", Assert.Single(Egw307(report)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw307_NearMiss_WorkloadSelector()
    {
        var report = Check(RequireClusterService, Internal("legacy.corp.example", "workloadSelector: {labels: {app: legacy}}"));

        Assert.Empty(Egw307(report));
    }

    [Theory]
    [InlineData("location: MESH_EXTERNAL", false)]
    [InlineData("", false)] // unset is MESH_EXTERNAL
    [InlineData("location: mesh_internal", true)]
    public void Egw307_Location(string location, bool fires)
    {
        var report = Check(RequireClusterService, Se("legacy", "legacy.corp.example", resolution: "NONE", extra: location));

        Assert.Equal(fires, Egw307(report).Count == 1);
    }

    [Theory]
    [InlineData("meshInternal: {requireClusterService: false}")]
    [InlineData("sidecar: {}")]
    public void Egw307_NearMiss_PolicyDoesNotRequireIt(string spec)
    {
        var report = Check(PolicyYaml("p", spec), Internal("legacy.corp.example"));

        Assert.Empty(Egw307(report));
    }

    [Fact]
    public void Egw307_NearMiss_OtherNamespace()
    {
        var report = Check(RequireClusterService, Se("legacy", "legacy.corp.example", ns: "team-b", resolution: "NONE", extra: "location: MESH_INTERNAL"));

        Assert.Empty(Egw307(report));
    }

    [Fact]
    public void Egw307_SeveralHosts_TheFirstBadOneIsReportedOnce()
    {
        var se = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: legacy, namespace: team-a}
            spec:
              hosts: [reviews, a.corp.example, b.corp.example]
              location: MESH_INTERNAL
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: NONE
            """;

        var report = Check(RequireClusterService, Service("reviews", Team), se);

        var finding = Assert.Single(Egw307(report));
        Assert.Equal("spec.hosts[1]", finding.Path);
        Assert.StartsWith("a.corp.example", finding.Message, StringComparison.Ordinal);
    }
}
