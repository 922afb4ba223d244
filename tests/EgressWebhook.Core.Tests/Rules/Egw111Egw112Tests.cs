using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules;

public sealed class Egw111Egw112Tests
{
    private static EgressReport Check(string yaml) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(ManifestReader.Read(yaml)), RuleSettings.Default);

    private static List<Finding> Findings(string yaml, string rule) => Check(yaml).Findings.Where(f => f.Rule == rule).ToList();

    private const string DrHeader = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: originate, namespace: default}\n";

    [Theory]
    [InlineData("trafficPolicy: {tls: {mode: SIMPLE}}", "spec.trafficPolicy.tls")]
    [InlineData("trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c, privateKey: /k}}", "spec.trafficPolicy.tls")]
    [InlineData("trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: SIMPLE}}]}", "spec.trafficPolicy.portLevelSettings[0].tls")]
    [InlineData("subsets: [{name: v1, trafficPolicy: {tls: {mode: SIMPLE, credentialName: c}}}]", "spec.subsets[0].trafficPolicy.tls")]
    public void Check_TlsOriginationWithoutCa_WarnsEgw111(string spec, string path)
    {
        var findings = Findings(DrHeader + "spec:\n  host: edition.cnn.com\n  " + spec, RuleIds.TlsOriginationWithoutCa);

        var finding = Assert.Single(findings);
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(path, finding.Path);
        Assert.Contains("edition.cnn.com", finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trafficPolicy: {tls: {mode: SIMPLE, caCertificates: /etc/ca.pem}}")]
    [InlineData("trafficPolicy: {tls: {mode: SIMPLE, credentialName: c}}\n  workloadSelector: {matchLabels: {app: curl}}")]
    [InlineData("trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}")]
    [InlineData("trafficPolicy: {tls: {mode: DISABLE}}")]
    [InlineData("trafficPolicy: {tls: {}}")]
    public void Check_VerifiedOrNoOrigination_DoesNotReportEgw111(string spec)
    {
        Assert.Empty(Findings(DrHeader + "spec:\n  host: edition.cnn.com\n  " + spec, RuleIds.TlsOriginationWithoutCa));
    }

    private const string SeHeader = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: db, namespace: default}\n";

    [Theory]
    [InlineData("TCP")]
    [InlineData("tcp")]
    [InlineData("")]
    public void Check_TcpPortWithoutAddresses_WarnsEgw112(string protocol)
    {
        var yaml = SeHeader + $"spec:\n  hosts: [db.example.com]\n  ports:\n  - {{number: 443, name: https, protocol: HTTPS}}\n  - {{number: 5432, name: pg, protocol: '{protocol}'}}\n  resolution: DNS";

        var finding = Assert.Single(Findings(yaml, RuleIds.ServiceEntryNeedsAddresses));

        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("spec.ports[1]", finding.Path);
    }

    [Theory]
    [InlineData("  addresses: [10.0.0.1]\n")]
    [InlineData("status: {addresses: [{host: db.example.com, value: 240.240.0.1}]}\n")]
    public void Check_TcpPortWithAddressesOrAllocated_DoesNotReportEgw112(string extra)
    {
        var yaml = SeHeader + (extra.StartsWith(' ') ? "spec:\n" + extra : extra + "spec:\n") +
                   "  hosts: [db.example.com]\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n  resolution: DNS\n";

        Assert.Empty(Findings(yaml, RuleIds.ServiceEntryNeedsAddresses));
    }

    [Theory]
    [InlineData("ISTIO_META_DNS_CAPTURE: \"true\"\n        ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"", false)]
    [InlineData("ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"", true)]
    [InlineData("ISTIO_META_DNS_CAPTURE: \"true\"", true)]
    public void Check_DnsAutoAllocation_SilencesEgw112OnlyWithCapture(string metadata, bool expected)
    {
        var mesh = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n" +
                   $"    defaultConfig:\n      proxyMetadata:\n        {metadata}\n---\n";
        var yaml = mesh + SeHeader + "spec:\n  hosts: [db.example.com]\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n";

        Assert.Equal(expected, Findings(yaml, RuleIds.ServiceEntryNeedsAddresses).Count == 1);
    }
}
