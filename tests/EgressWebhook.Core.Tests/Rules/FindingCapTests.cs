using System.Globalization;
using System.Text;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>An object near the API server's 3 MiB limit whose every list item has the same problem gets the first
/// <see cref="FindingCap.PerRuleAndObject"/> findings per rule and object and one summary that counts the rest (issue 13):
/// a count, not a time.</summary>
public sealed class FindingCapTests
{
    private const int Cap = FindingCap.PerRuleAndObject;
    private const int NearApiServerLimit = 3 * 1024 * 1024 - 4096;

    private static readonly EgressSnapshot Seed = EgressSnapshot.Create(Infrastructure.Seed.Objects());

    private static string Fill(Func<int, string> item, out int count)
    {
        var sb = new StringBuilder("[");
        count = 0;
        while (sb.Length < NearApiServerLimit - 512)
        {
            sb.Append(count == 0 ? "" : ",").Append(item(count++));
        }

        return sb.Append(']').ToString();
    }

    private static IReadOnlyList<Finding> Check(string json) =>
        EgressEngine.Default.CheckChange(Seed, new ObjectChange(Operation.Create, ManifestReader.Read(json).Single(), null), RuleSettings.Default).Findings;

    private static void AssertBounded(IReadOnlyList<Finding> findings)
    {
        foreach (var group in findings.GroupBy(f => (f.Rule, f.Object)))
        {
            Assert.True(group.Count() <= Cap + 1, $"{group.Key.Rule} {group.Key.Object}: {group.Count()} findings");
        }
    }

    [Fact]
    public void VirtualService_ThousandsOfRoutesToUnknownHosts_ListsTheFirst_AndCountsTheRest()
    {
        var http = Fill(i => $"{{\"route\":[{{\"destination\":{{\"host\":\"missing{i}.example.com\",\"port\":{{\"number\":443}}}}}}]}}", out var routes);
        var json = "{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"VirtualService\",\"metadata\":{\"name\":\"huge\",\"namespace\":\"default\"}," +
                   $"\"spec\":{{\"hosts\":[\"missing.example.com\"],\"http\":{http}}}}}";
        Assert.True(json.Length > 3_000_000, $"{json.Length} bytes");

        var findings = Check(json);

        AssertBounded(findings);
        var egw101 = findings.Where(f => f.Rule == RuleIds.DestinationHostNotRegistered).ToList();
        Assert.Equal(Cap + 1, egw101.Count);

        // the first routes listed as before, in order, then the count of the others on the list they are in
        Assert.Equal(Enumerable.Range(0, Cap).Select(i => $"spec.http[{i}].route[0].destination.host").Order(StringComparer.Ordinal),
            egw101.Where(f => f.Path != "spec.http").Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(egw101.Where(f => f.Path != "spec.http"), f => Assert.Matches("^missing[0-9]+\\.example\\.com: ", f.Message));
        var summary = Assert.Single(egw101, f => f.Path == "spec.http");
        Assert.Equal(egw101[0].Severity, summary.Severity);
        Assert.StartsWith($"… and {(routes - Cap).ToString("N0", CultureInfo.InvariantCulture)} more EGW101 {(summary.Severity == Severity.Error ? "errors" : "warnings")} like the {Cap} listed in spec.http; ",
            summary.Message, StringComparison.Ordinal);
        Assert.True(summary.Message.Length <= Finding.MaxHeadline);
    }

    [Fact]
    public void ServiceEntry_ThousandsOfHostsAlsoInAnotherNamespace_ListsTheFirst_AndCountsTheRest()
    {
        var hosts = Fill(i => $"\"h{i}.example.com\"", out var count);
        string Entry(string ns, string name, string created) =>
            $"{{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"ServiceEntry\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\",\"creationTimestamp\":\"{created}\"}}," +
            $"\"spec\":{{\"hosts\":{hosts},\"location\":\"MESH_EXTERNAL\",\"resolution\":\"DNS\",\"ports\":[{{\"number\":443,\"name\":\"tls\",\"protocol\":\"TLS\"}}]}}}}";
        var older = ManifestReader.Read(Entry("team-2", "old", "2020-01-01T00:00:00Z")).Single();
        var snapshot = EgressSnapshot.Create(Seed.Objects.Append(older));

        // EGW210 off: with it an error, an entry of thousands of hosts (Istio's CRD allows 256) gets that finding alone
        var withoutSchemaLimits = new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = Enforcement.Off } };
        var findings = EgressEngine.Default.CheckChange(snapshot,
            new ObjectChange(Operation.Create, ManifestReader.Read(Entry("team-1", "new", "2026-01-01T00:00:00Z")).Single(), null), withoutSchemaLimits).Findings;

        AssertBounded(findings);
        Assert.True(findings.Count <= 4 * (Cap + 1), $"{findings.Count} findings");
        var egw118 = findings.Where(f => f.Rule == RuleIds.HostInSeveralNamespaces && f.Object.Name == "new").ToList();
        Assert.Equal(Cap + 1, egw118.Count);
        Assert.StartsWith($"… and {(count - Cap).ToString("N0", CultureInfo.InvariantCulture)} more EGW118 warnings",
            Assert.Single(egw118, f => f.Path == "spec.hosts").Message, StringComparison.Ordinal);
    }

    /// <summary>The validators format only the failures the cap keeps (<c>Failures.Admits</c>): what a reader sees is as
    /// if every item had been formatted: the first ones in the validator's order, with their text, then the count.</summary>
    [Fact]
    public void ServiceEntryValidator_ListsTheFirstFailuresInOrder_AndCountsTheRest()
    {
        const int endpoints = 40;
        var items = string.Join(',', Enumerable.Range(0, endpoints).Select(i => $"{{\"address\":\"bad{i}\",\"ports\":{{\"nope\":1}}}}"));
        var json = "{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"ServiceEntry\",\"metadata\":{\"name\":\"se\",\"namespace\":\"default\"}," +
                   $"\"spec\":{{\"hosts\":[\"api.example.com\"],\"resolution\":\"STATIC\",\"ports\":[{{\"number\":443,\"name\":\"tls\",\"protocol\":\"TLS\"}}],\"endpoints\":[{items}]}}}}";

        var egw203 = Check(json).Where(f => f.Rule == RuleIds.EndpointsInconsistent).ToList();

        // two failures per endpoint (address, then port name): the first ten endpoints' are listed with their text
        var listed = egw203.Where(f => f.Path != "spec.endpoints").ToList();
        Assert.Equal(Enumerable.Range(0, Cap / 2).SelectMany(i => new[] { $"spec.endpoints[{i}].address", $"spec.endpoints[{i}].ports[nope]" }).Order(StringComparer.Ordinal),
            listed.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(listed, f => Assert.NotEmpty(f.Message));
        Assert.Contains(listed, f => f.Message.StartsWith("STATIC endpoint address bad9 ", StringComparison.Ordinal));
        var summary = Assert.Single(egw203, f => f.Path == "spec.endpoints");
        Assert.Equal(Severity.Error, summary.Severity);
        Assert.StartsWith($"… and {2 * endpoints - Cap} more EGW203 errors like the {Cap} listed in spec.endpoints; ", summary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayValidator_CountedFailuresKeepTheirSeverity()
    {
        // 25 passthrough servers whose credentialName is ignored (warnings), then 5 TLS servers without tls (errors): the
        // 20 listed are warnings, the summary of the other 10 is an error
        var servers = Enumerable.Range(0, 25).Select(i => $"{{\"port\":{{\"number\":{1000 + i},\"name\":\"p{i}\",\"protocol\":\"TLS\"}},\"hosts\":[\"h{i}.example.com\"],\"tls\":{{\"credentialName\":\"c\"}}}}")
            .Concat(Enumerable.Range(25, 5).Select(i => $"{{\"port\":{{\"number\":{1000 + i},\"name\":\"p{i}\",\"protocol\":\"TLS\"}},\"hosts\":[\"h{i}.example.com\"]}}"));
        var json = "{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"Gateway\",\"metadata\":{\"name\":\"gw\",\"namespace\":\"default\"}," +
                   $"\"spec\":{{\"selector\":{{\"istio\":\"egressgateway\"}},\"servers\":[{string.Join(',', servers)}]}}}}";

        var egw206 = Check(json).Where(f => f.Rule == RuleIds.GatewayServerTls).ToList();

        Assert.Equal(Cap, egw206.Count(f => f.Path != "spec.servers" && f.Severity == Severity.Warning));
        var summary = Assert.Single(egw206, f => f.Path == "spec.servers");
        Assert.Equal(Severity.Error, summary.Severity);
        Assert.StartsWith($"… and 10 more EGW206 errors like the {Cap} listed in spec.servers; ", summary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_KeepsTheWorstSeverity_AndIsAContradictionWhenOneOfThoseIs()
    {
        var context = new RuleContext(SnapshotView.Of(Seed), RuleSettings.Default);
        var subject = Seed.Objects.First(o => o is VirtualService);
        var awaited = new Awaited(ResourceKind.ServiceEntry, "a ServiceEntry for x");
        for (var i = 0; i < Cap + 3; i++)
        {
            // the first kept, then a warning, an error awaiting something and an error that is a contradiction
            var (severity, awaits) = i < Cap + 1 ? (Severity.Warning, awaited) : i == Cap + 1 ? (Severity.Error, awaited) : (Severity.Error, null);
            context.Report(awaits, "EGW101", severity, subject, $"spec.http[{i}].route[0].destination.host", $"x{i}; fix");
        }

        var summary = Assert.Single(context.Findings, f => f.Path == "spec.http");
        Assert.Equal(Cap + 1, context.Findings.Count);
        Assert.Equal(Severity.Error, summary.Severity);
        Assert.Null(summary.Awaits);
        Assert.StartsWith("… and 3 more EGW101 errors", summary.Message, StringComparison.Ordinal);
        Assert.True(context.IsCapped("EGW101", subject));
        Assert.False(context.IsCapped("EGW102", subject));
    }
}
