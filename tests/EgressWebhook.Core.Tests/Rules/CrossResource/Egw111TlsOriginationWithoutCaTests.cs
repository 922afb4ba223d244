using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

public sealed class Egw111TlsOriginationWithoutCaTests
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
}
