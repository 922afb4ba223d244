using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW110: two visible ServiceEntries give one host:port different protocols.</summary>
public sealed class Egw110ConflictingServiceEntryProtocolTests
{
    private static string Port(string protocol, int number = 8443) =>
        protocol.Length == 0 ? $"[{{number: {number}, name: p}}]" : $"[{{number: {number}, name: p, protocol: {protocol}}}]";

    [Fact]
    public void Egw110_SameHostAndPortWithOtherProtocols_WarnsOnEachNamingTheOther()
    {
        var report = Check(Se("api-http", "api.example.com", ports: Port("HTTP")), Se("api-https", "api.example.com", ports: Port("HTTPS")));

        var findings = Of(report, RuleIds.ConflictingServiceEntryProtocol);
        Assert.Equal(2, findings.Count);
        var http = Assert.Single(findings, f => f.Object == new ObjectRef("ServiceEntry", "default", "api-http"));
        Assert.Equal(Severity.Warning, http.Severity);
        Assert.Equal("spec.ports[0].protocol", http.Path);
        Assert.Equal("api.example.com:8443 is HTTP here but HTTPS in ServiceEntry default/api-https; use one protocol", http.Message);
        Assert.Equal([new ObjectRef("ServiceEntry", "default", "api-https")], http.Related);
        Assert.Contains(findings, f => f.Object.Name == "api-https" && f.Message.StartsWith("api.example.com:8443 is HTTPS here but HTTP", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HTTPS", "https", false)] // protocols compare case-insensitively
    [InlineData("HTTPS", "HTTPS", false)]
    [InlineData("HTTPS", "", false)] // a port without a protocol declares none
    [InlineData("TLS", "TCP", true)]
    public void Egw110_Protocols(string a, string b, bool fires)
    {
        var report = Check(Se("a", "api.example.com", ports: Port(a)), Se("b", "api.example.com", ports: Port(b)));

        Assert.Equal(fires, Of(report, RuleIds.ConflictingServiceEntryProtocol).Count > 0);
    }

    [Fact]
    public void Egw110_OtherPortNumber_IsNoConflict()
    {
        var report = Check(Se("a", "api.example.com", ports: Port("HTTP", 80)), Se("b", "api.example.com", ports: Port("HTTPS", 443)));

        Assert.Empty(Of(report, RuleIds.ConflictingServiceEntryProtocol));
    }

    [Theory]
    [InlineData("*.example.com")] // only exact hosts are compared: a wildcard is another host
    [InlineData("www.example.com")]
    public void Egw110_OtherHost_IsNoConflict(string host)
    {
        var report = Check(Se("a", "api.example.com", ports: Port("HTTP")), Se("b", host, ports: Port("HTTPS"), resolution: "NONE"));

        Assert.Empty(Of(report, RuleIds.ConflictingServiceEntryProtocol));
    }

    [Theory]
    [InlineData("  exportTo: [\".\"]", "  exportTo: [\".\"]", false)] // never in one namespace
    [InlineData("  exportTo: [\".\"]", "", true)] // b is seen in team-a too
    [InlineData("  exportTo: [team-b]", "  exportTo: [\".\"]", true)]
    [InlineData("  exportTo: [team-c]", "  exportTo: [team-d]", false)]
    [InlineData("  exportTo: [\"~\"]", "", false)]
    public void Egw110_ExportScopes_MustShareANamespace(string exportA, string exportB, bool fires)
    {
        var report = Check(Se("a", "api.example.com", ns: "team-a", ports: Port("HTTP"), extra: exportA),
            Se("b", "api.example.com", ns: "team-b", ports: Port("HTTPS"), extra: exportB));

        Assert.Equal(fires, Of(report, RuleIds.ConflictingServiceEntryProtocol).Count > 0);
    }

    [Fact]
    public void Egw110_MeshDefaultExportToOwnNamespace_KeepsNamespacesApart()
    {
        var mesh = RuleChecks.Mesh("defaultServiceExportTo: [\".\"]");

        var report = Check(mesh, Se("a", "api.example.com", ns: "team-a", ports: Port("HTTP")), Se("b", "api.example.com", ns: "team-b", ports: Port("HTTPS")));

        Assert.Empty(Of(report, RuleIds.ConflictingServiceEntryProtocol));
    }

    [Fact]
    public void Egw110_ShortHostResolvesInTheEntrysNamespace()
    {
        var report = Check(Se("a", "api", ns: "shop", ports: Port("HTTP")), Se("b", "api.shop.svc.cluster.local", ns: "shop", ports: Port("GRPC")));

        var finding = Assert.Single(Of(report, RuleIds.ConflictingServiceEntryProtocol), f => f.Object.Name == "a");
        Assert.StartsWith("api.shop.svc.cluster.local:8443 is HTTP here but GRPC", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw110_ConflictOnTheSecondPort_IsReportedAtItsIndex()
    {
        var report = Check(Se("a", "api.example.com", ports: "[{number: 80, name: http, protocol: HTTP}, {number: 8443, name: p, protocol: HTTP}]"),
            Se("b", "api.example.com", ports: "[{number: 80, name: http, protocol: HTTP}, {number: 8443, name: p, protocol: HTTPS}]"));

        Assert.Equal("spec.ports[1].protocol", Assert.Single(Of(report, RuleIds.ConflictingServiceEntryProtocol), f => f.Object.Name == "a").Path);
    }

    [Fact]
    public void Egw110_SeveralSharedHosts_ReportThePortOnce()
    {
        static string TwoHosts(string se) => se.Replace("hosts: [\"api.example.com\"]", "hosts: [\"api.example.com\", \"www.example.com\"]", StringComparison.Ordinal);

        var report = Check(TwoHosts(Se("a", "api.example.com", ports: Port("HTTP"))), TwoHosts(Se("b", "api.example.com", ports: Port("HTTPS"))));

        var finding = Assert.Single(Of(report, RuleIds.ConflictingServiceEntryProtocol), f => f.Object.Name == "a");
        Assert.StartsWith("api.example.com:8443", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw110_OtherEntryDeclaringThePortTwice_ConflictsThroughItsSecondProtocol()
    {
        // b's first 8443 agrees with a; its second does not
        var report = Check(Se("a", "api.example.com", ports: Port("HTTP")),
            Se("b", "api.example.com", ports: "[{number: 8443, name: p, protocol: http}, {number: 8443, name: q, protocol: HTTPS}]"));

        var finding = Assert.Single(Of(report, RuleIds.ConflictingServiceEntryProtocol), f => f.Object.Name == "a");
        Assert.Contains("is HTTP here but HTTPS in ServiceEntry default/b", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw110_CreatingTheSecond_ReportsBoth()
    {
        var report = CheckChange(Se("b", "api.example.com", ports: Port("HTTPS")), Se("a", "api.example.com", ports: Port("HTTP")));

        Assert.Equal(["a", "b"], Of(report, RuleIds.ConflictingServiceEntryProtocol).Select(f => f.Object.Name).Order());
    }
}
