using System.Text.Json.Nodes;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Reports;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

/// <summary>The reports Core/Reports builds (what the background audit applies and <c>audit -o yaml</c> prints) are
/// stored as they are by the CRDs of deploy/components/policy-reports: valid against their schema, no field pruned.</summary>
public sealed class PolicyReportCrdTests
{
    private static IstioCrdSchemas Crds =>
        IstioCrdSchemas.LoadFile(Path.Combine(TestPaths.Repo, "deploy", "components", "policy-reports", "policyreports.yaml"), PolicyReport.Group);

    /// <summary>The seed without each of its files in turn, and without all of its ServiceEntries.</summary>
    public static TheoryData<string> Breaks()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        data.Add("serviceentry");
        return data;
    }

    private static EgressSnapshot SeedWithout(string cut)
    {
        var objects = new List<EgressObject>();
        foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml").Where(f => !Path.GetFileName(f).Contains(cut, StringComparison.Ordinal)))
        {
            objects.AddRange(ManifestReader.Read(File.ReadAllText(file)));
        }

        return EgressSnapshot.Create(objects);
    }

    private static IReadOnlyList<PolicyReport> Reports(EgressSnapshot snapshot, int maxResults) =>
        PolicyReports.Build(EgressEngine.Default.CheckAll(snapshot, RuleSettings.Default), snapshot.Objects, maxResults);

    [Theory]
    [MemberData(nameof(Breaks))]
    public void Reports_OfTheBrokenSeed_ValidateAgainstTheShippedCrds(string cut)
    {
        var snapshot = SeedWithout(cut);
        var checkedReports = 0;
        foreach (var maxResults in new[] { PolicyReport.DefaultMaxResults, 1 })
        {
            foreach (var report in Reports(snapshot, maxResults))
            {
                Assert.Equal([], Crds.Validate(report.ToJson()));
                checkedReports++;
            }
        }

        if (cut == "serviceentry")
        {
            Assert.True(checkedReports > 0, "the seed without its ServiceEntries must give a report");
        }
    }

    [Fact]
    public void Crds_ServeBothKinds_AndRefuseWhatTheApiDoesNotAllow()
    {
        Assert.Equal(["ClusterPolicyReport", "PolicyReport"], Crds.Kinds.Order(StringComparer.Ordinal));
        var report = Reports(SeedWithout("serviceentry"), 10)[0].ToJson();
        Assert.Equal([], Crds.Validate(report));

        var badResult = (JsonObject)report.DeepClone();
        badResult["results"]![0]!["result"] = "failed";
        var unknown = (JsonObject)report.DeepClone();
        unknown["results"]![0]!["resource"] = new JsonObject();
        var badCount = (JsonObject)report.DeepClone();
        badCount["summary"]!["fail"] = "one";

        Assert.NotEmpty(Crds.Validate(badResult));
        Assert.Contains(Crds.Validate(unknown), e => e.Contains("results[0].resource: unknown field", StringComparison.Ordinal));
        Assert.NotEmpty(Crds.Validate(badCount));
    }
}
