using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

public sealed class Egw112ServiceEntryNeedsAddressesTests
{
    private static EgressReport Check(string yaml) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(ManifestReader.Read(yaml)), RuleSettings.Default);

    private static List<Finding> Findings(string yaml, string rule) => Check(yaml).Findings.Where(f => f.Rule == rule).ToList();

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
