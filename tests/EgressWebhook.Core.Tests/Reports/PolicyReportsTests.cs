using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Reports;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Reports;

public sealed class PolicyReportsTests
{
    private static (EgressReport Report, List<EgressObject> Objects) Audit(List<EgressObject> objects) =>
        (EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default with { WholeCluster = true }), objects);

    private static List<EgressObject> SeedWithoutGatewayLeg()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "egressgateway-to-external" });
        return objects;
    }

    [Fact]
    public void Build_CleanSeed_HasNoReport()
    {
        var (report, objects) = Audit(Seed.Objects());

        Assert.Empty(PolicyReports.Build(report, objects));
    }

    [Fact]
    public void Build_SeedWithoutGatewayLeg_OneNamespaceReportWithFailAndPasses()
    {
        var (report, objects) = Audit(SeedWithoutGatewayLeg());

        var policyReport = Assert.Single(PolicyReports.Build(report, objects));

        Assert.Equal("default", policyReport.Namespace);
        Assert.Equal("PolicyReport", policyReport.Kind);
        var result = Assert.Single(policyReport.Results, r => r.Finding.Rule == RuleIds.IncompleteEgressChain);
        Assert.Equal("fail", result.Result);
        Assert.Equal(report.Errors, policyReport.Summary.Fail);
        Assert.Equal(report.Warnings, policyReport.Summary.Warn);
        // default holds 6 objects of the seed; those without a finding pass
        var flagged = report.Findings.Select(f => f.Object).Distinct().Count();
        Assert.Equal(objects.Count(o => o.Namespace == "default") - flagged, policyReport.Summary.Pass);
    }

    [Fact]
    public void ToJson_HasTheWgPolicyShape()
    {
        var (report, objects) = Audit(SeedWithoutGatewayLeg());

        var json = PolicyReports.Build(report, objects)[0].ToJson();

        Assert.Equal("wgpolicyk8s.io/v1alpha2", (string?)json["apiVersion"]);
        Assert.Equal("egress-webhook", (string?)json["metadata"]!["name"]);
        Assert.Equal("default", (string?)json["metadata"]!["namespace"]);
        var first = json["results"]![0]!;
        Assert.Equal("egress-webhook", (string?)first["source"]);
        Assert.Equal("networking.istio.io/v1", (string?)first["resources"]![0]!["apiVersion"]);
        Assert.Equal("VirtualService", (string?)first["resources"]![0]!["kind"]);
        Assert.NotNull(first["properties"]!["path"]);
    }

    [Fact]
    public void Build_ManyFindings_BoundsResultsAndKeepsCounts()
    {
        var objects = Seed.Objects();
        for (var i = 0; i < 30; i++)
        {
            objects.Add(new ServiceEntry
            {
                Metadata = new ObjectMeta { Name = $"wild-{i:00}", Namespace = "team-a" },
                Spec = new ServiceEntrySpec { Hosts = [$"*.h{i}.example.com"], Resolution = Resolutions.Dns, Ports = [new ServicePortSpec { Number = 443, Name = "tls", Protocol = "TLS" }] },
            });
        }

        var (report, all) = Audit(objects);
        var teamA = report.Findings.Count(f => f.Object.Namespace == "team-a");
        Assert.True(teamA >= 30, $"expected a finding per wildcard DNS entry, got {teamA}");

        var bounded = Assert.Single(PolicyReports.Build(report, all, maxResults: 10), r => r.Namespace == "team-a");

        Assert.Equal(10, bounded.Results.Count);
        Assert.Equal(teamA - 10, bounded.Omitted);
        Assert.Equal(teamA, bounded.Summary.Fail + bounded.Summary.Warn);
        Assert.Equal("20", (string?)bounded.ToJson()["metadata"]!["annotations"]![PolicyReport.OmittedAnnotation]);
        Assert.Equal(report.Findings.Where(f => f.Object.Namespace == "team-a").Take(10), bounded.Results.Select(r => r.Finding));
    }

    [Fact]
    public void Build_SameInputInAnotherOrder_IsTheSame()
    {
        var (a, objectsA) = Audit(SeedWithoutGatewayLeg());
        var reversed = SeedWithoutGatewayLeg();
        reversed.Reverse();
        var (b, objectsB) = Audit(reversed);

        Assert.Equal(
            PolicyReports.Build(a, objectsA).Select(r => r.ToJson().ToJsonString()),
            PolicyReports.Build(b, objectsB).Select(r => r.ToJson().ToJsonString()));
    }
}
