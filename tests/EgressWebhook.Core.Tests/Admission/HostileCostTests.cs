using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Admission;

/// <summary>Objects whose cost once grew with the square of their size (found in review): huge dotted hosts, thousands
/// of TCP ports (EGW112), thousands of hosts times thousands of exportTo entries (EGW118). Each gets the right findings;
/// the bound is only a hang guard, speed is measured by the benchmarks.</summary>
public sealed class HostileCostTests
{
    private static readonly EgressSnapshot Seed = EgressSnapshot.Create(Directory.EnumerateFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal)
        .SelectMany(f => ManifestReader.Read(File.ReadAllText(f))));

    private static EgressObject Object(string json) => ManifestReader.Read(json).Single();

    private static string ServiceEntry(string ns, string name, IEnumerable<string> hosts, string ports, string extra = "") =>
        $"{{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"ServiceEntry\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\"{extra}}}," +
        $"\"spec\":{{\"hosts\":[{string.Join(",", hosts.Select(h => $"\"{h}\""))}],\"ports\":[{ports}]}}}}";

    private static string ServiceEntry(string ns, string name, IEnumerable<string> hosts, string ports, IEnumerable<string> exportTo) =>
        ServiceEntry(ns, name, hosts, ports).Replace("\"ports\":", $"\"exportTo\":[{string.Join(",", exportTo.Select(e => $"\"{e}\""))}],\"ports\":", StringComparison.Ordinal);

    private const string TlsPort = "{\"number\":443,\"name\":\"tls\",\"protocol\":\"TLS\"}";

    /// <summary>EGW210 off: these lists are longer than Istio's CRDs allow, and with EGW210 an error such an object gets
    /// that finding alone (Egw210ListOverSchemaLimitTests). What is tested here is what the other rules cost and report
    /// where the CRDs have no <c>maxItems</c> and EGW210 is off or a warning.</summary>
    private static readonly RuleSettings WithoutSchemaLimits = new()
    {
        Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = Enforcement.Off },
    };

    private static IReadOnlyList<Finding> Check(EgressSnapshot snapshot, EgressObject obj)
    {
        var task = Task.Run(() => EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, obj, null), WithoutSchemaLimits));
        Assert.True(task.Wait(TimeSpan.FromSeconds(60), CancellationToken.None), "the check hung");
        return task.Result.Findings;
    }

    /// <summary>Findings listed per rule and object; the rest are counted in one summary finding (issue 13).</summary>
    private const int Cap = FindingCap.PerRuleAndObject;

    private static void AssertSummary(IReadOnlyList<Finding> findings, string rule, string name, string path, int more, Severity severity)
    {
        var summary = Assert.Single(findings, f => f.Rule == rule && f.Object.Name == name && f.Path == path);
        Assert.Equal(severity, summary.Severity);
        Assert.Null(summary.Awaits);
        Assert.StartsWith($"… and {more.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} more {rule} {(severity == Severity.Error ? "errors" : "warnings")} like", summary.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeDottedHosts_AreRefusedWithEgw209_OnceForTheObject()
    {
        // nine hosts of 200 KB: split into dot-suffixes, each would be 100,000 strings of 100 KB on average
        var huge = string.Concat(Enumerable.Repeat("a.", 100_000)) + "com";
        var hosts = Enumerable.Range(0, 9).Select(i => $"{i}{huge}").Append("ok.example.com");

        var findings = Check(Seed, Object(ServiceEntry("team-1", "h", hosts, TlsPort)));

        var finding = Assert.Single(findings, f => f.Rule == RuleIds.HostTooLong);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal("spec.hosts[0]", finding.Path);
        Assert.Contains($"host of {huge.Length + 1} characters", finding.Message, StringComparison.Ordinal);
        Assert.Contains("(+8 more)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeHostInAWildcardsDomain_MatchesOnlyItself()
    {
        var huge = string.Concat(Enumerable.Repeat("a.", 50_000)) + "example.com";
        var snapshot = EgressSnapshot.Create(Seed.Objects
            .Append(Object(ServiceEntry("team-2", "wild", ["*.example.com"], TlsPort)))
            .Append(Object(ServiceEntry("team-3", "star", ["*"], TlsPort))));
        var view = SnapshotView.With(snapshot, Object(ServiceEntry("team-1", "h", Enumerable.Range(0, 9).Select(i => $"{i}{huge}").Append(huge), TlsPort)));

        var found = view.ServiceEntries(huge);

        var match = Assert.Single(found);
        Assert.Equal("h", match.Item.Name);
        Assert.DoesNotContain(view.ServiceEntries("*.example.com"), m => m.Item.Name == "h");
    }

    [Theory]
    [InlineData(10_000)]
    public void ThousandsOfTcpPorts_SharedWithARival_AreEachAnEgw112Error(int n)
    {
        var ports = string.Join(",", Enumerable.Range(1, n).Select(i => $"{{\"number\":{i},\"name\":\"p{i}\",\"protocol\":\"TCP\"}}"));
        var snapshot = EgressSnapshot.Create(Seed.Objects.Append(Object(ServiceEntry("team-2", "rival", ["y.example.com"], ports))));

        var findings = Check(snapshot, Object(ServiceEntry("team-1", "h", ["x.example.com"], ports)));

        // the rival gains the same errors, caused by the change; each side lists the first ports, then counts the rest
        var errors = findings.Where(f => f.Rule == RuleIds.ServiceEntryNeedsAddresses && f.Object.Name == "h" && f.Path != "spec.ports").ToList();
        Assert.Equal(Cap, findings.Count(f => f.Rule == RuleIds.ServiceEntryNeedsAddresses && f.Object.Name == "rival" && f.Message.Contains("team-1/h", StringComparison.Ordinal)));
        AssertSummary(findings, RuleIds.ServiceEntryNeedsAddresses, "rival", "spec.ports", n - Cap, Severity.Error);
        Assert.Equal(Cap, errors.Count);
        Assert.All(errors, f => Assert.Equal(Severity.Error, f.Severity));
        Assert.All(errors, f => Assert.Contains("team-2/rival", f.Message, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, Cap).Select(i => $"spec.ports[{i}]").Order(StringComparer.Ordinal), errors.Select(f => f.Path).Order(StringComparer.Ordinal));
        AssertSummary(findings, RuleIds.ServiceEntryNeedsAddresses, "h", "spec.ports", n - Cap, Severity.Error);
    }

    [Fact]
    public void ThousandsOfTcpPorts_RivalExportedElsewhere_AreWarningsOnly()
    {
        const int n = 5_000;
        var ports = string.Join(",", Enumerable.Range(1, n).Select(i => $"{{\"number\":{i},\"name\":\"p{i}\",\"protocol\":\"TCP\"}}"));
        var snapshot = EgressSnapshot.Create(Seed.Objects.Append(Object(ServiceEntry("team-2", "rival", ["y.example.com"], ports, ["."]))));

        var findings = Check(snapshot, Object(ServiceEntry("team-1", "h", ["x.example.com"], ports, ["."])));

        var egw112 = findings.Where(f => f.Rule == RuleIds.ServiceEntryNeedsAddresses && f.Object.Name == "h").ToList();
        Assert.Equal(Cap + 1, egw112.Count);
        Assert.All(egw112, f => Assert.Equal(Severity.Warning, f.Severity));
        AssertSummary(findings, RuleIds.ServiceEntryNeedsAddresses, "h", "spec.ports", n - Cap, Severity.Warning);
    }

    [Fact]
    public void ThousandsOfHostsTimesThousandsOfExportTo_AreEachAnEgw118Warning_AtTheirFirstEntry()
    {
        const int n = 4_000;
        var hosts = Enumerable.Range(0, n).Select(i => $"h{i}.example.com").ToList();
        var older = Object(ServiceEntry("team-2", "old", hosts, TlsPort, ",\"creationTimestamp\":\"2020-01-01T00:00:00Z\""));
        var snapshot = EgressSnapshot.Create(Seed.Objects.Append(older));
        var exportTo = Enumerable.Range(0, n).Select(i => $"ns{i}").Append("team-2");

        // h7 listed twice: one finding, on its first entry
        var findings = Check(snapshot, Object(ServiceEntry("team-1", "h", hosts.Append("h7.example.com"), TlsPort, exportTo)));

        var egw118 = findings.Where(f => f.Rule == RuleIds.HostInSeveralNamespaces && f.Object.Name == "h" && f.Path != "spec.hosts").ToList();
        Assert.Equal(Cap, egw118.Count);
        AssertSummary(findings, RuleIds.HostInSeveralNamespaces, "h", "spec.hosts", n - Cap, Severity.Warning);
        Assert.All(egw118, f => Assert.Contains("team-2/old", f.Message, StringComparison.Ordinal));
        var h7 = Assert.Single(egw118, f => f.Message.StartsWith("h7.example.com ", StringComparison.Ordinal));
        Assert.Equal("spec.hosts[7]", h7.Path);
    }

    [Fact]
    public void ThousandsOfHostsTimesThousandsOfPorts_SharedWithARival_AreOneEgw110PerDisagreeingPort()
    {
        // both entries list 3,000 hosts and 3,000 ports; they disagree on ports 0 and 2,999 (TLS there) and on port
        // number 2, which the rival declares twice, HTTP first, then TLS. Compared per host, per port, per rival port,
        // this was 3,000³ steps
        const int n = 3_000;
        var hosts = Enumerable.Range(0, n).Select(i => $"h{i}.example.com").ToList();
        string Ports(Func<int, string> protocol) => string.Join(",", Enumerable.Range(0, n).Select(i => $"{{\"number\":{1 + i},\"name\":\"p{i}\",\"protocol\":\"{protocol(i)}\"}}"));
        var rival = Object(ServiceEntry("team-2", "rival", hosts, Ports(i => i is 0 or n - 1 ? "TLS" : "HTTP") + ",{\"number\":2,\"name\":\"again\",\"protocol\":\"TLS\"}"));
        var snapshot = EgressSnapshot.Create(Seed.Objects.Append(rival));

        var findings = Check(snapshot, Object(ServiceEntry("team-1", "h", hosts, Ports(_ => "HTTP"))));

        var egw110 = findings.Where(f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "h").ToList();
        Assert.Equal(["spec.ports[0].protocol", "spec.ports[1].protocol", $"spec.ports[{n - 1}].protocol"], egw110.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(egw110, f => Assert.StartsWith("h0.example.com:", f.Message, StringComparison.Ordinal));
        Assert.Contains(egw110, f => f.Message.Contains($":{n} is HTTP here but TLS in ServiceEntry team-2/rival", StringComparison.Ordinal));
    }

    [Fact]
    public void ThousandsOfHosts_RivalNotSharingANamespace_GiveNoEgw118()
    {
        const int n = 2_000;
        var hosts = Enumerable.Range(0, n).Select(i => $"h{i}.example.com").ToList();
        var older = Object(ServiceEntry("team-2", "old", hosts, TlsPort, ["."]));
        var snapshot = EgressSnapshot.Create(Seed.Objects.Append(older));

        var findings = Check(snapshot, Object(ServiceEntry("team-1", "h", hosts, TlsPort, Enumerable.Range(0, n).Select(i => $"ns{i}"))));

        Assert.DoesNotContain(findings, f => f.Rule == RuleIds.HostInSeveralNamespaces);
    }

    private static readonly string Name253 = (string.Concat(Enumerable.Repeat("abcdefgh.", 28)) + "x.com")[^253..];

    [Theory]
    [InlineData("", false)]
    [InlineData("z", true)]
    [InlineData("*.", false)]
    [InlineData("*.z", true)]
    public void ServiceEntryHost_LongerThanADnsName_IsEgw209(string prefix, bool refused)
    {
        var findings = Check(Seed, Object(ServiceEntry("team-1", "h", ["ok.example.com", prefix + Name253], TlsPort)));

        var egw209 = findings.Where(f => f.Rule == RuleIds.HostTooLong).ToList();
        Assert.Equal(refused ? 1 : 0, egw209.Count);
        Assert.All(egw209, f => Assert.Equal("spec.hosts[1]", f.Path));
    }

    [Fact]
    public void GatewayServerHostAndRouteDestination_LongerThanADnsName_AreEgw209()
    {
        var gateway = Object($$$"""{"apiVersion":"networking.istio.io/v1","kind":"Gateway","metadata":{"name":"g","namespace":"team-1"},"spec":{"selector":{"istio":"egressgateway"},"servers":[{"port":{"number":443,"name":"tls","protocol":"TLS"},"hosts":["ok.example.com","./z{{{Name253}}}"],"tls":{"mode":"PASSTHROUGH"}}]}}""");
        var vs = Object($$$"""{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"v","namespace":"team-1"},"spec":{"hosts":["ok.example.com"],"http":[{"route":[{"destination":{"host":"ok.example.com"}},{"destination":{"host":"z{{{Name253}}}"}}]}]}}""");

        var onGateway = Assert.Single(Check(Seed, gateway), f => f.Rule == RuleIds.HostTooLong);
        var onRoute = Assert.Single(Check(Seed, vs), f => f.Rule == RuleIds.HostTooLong);

        Assert.Equal("spec.servers[0].hosts[1]", onGateway.Path);
        Assert.Equal("spec.http[0].route[1].destination.host", onRoute.Path);
    }
}
