using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW102: a destination port the registered host does not declare.</summary>
public sealed class Egw102DestinationPortUnknownTests
{
    [Fact]
    public void Egw102_TargetPortGiven_NamesTheServicePort()
    {
        const string svc = """
            apiVersion: v1
            kind: Service
            metadata: {name: egw, namespace: istio-system}
            spec:
              selector: {istio: egressgateway}
              ports: [{name: https, port: 443, targetPort: 8443}, {name: http2, port: 80, targetPort: 8080}]
            """;

        var report = Check(svc, Vs("x.example.com", "egw.istio-system.svc.cluster.local", destExtra: "port: {number: 8443}"));

        var finding = Assert.Single(Of(report, RuleIds.DestinationPortUnknown));
        Assert.Equal("spec.tls[0].route[0].destination.port.number", finding.Path);
        Assert.EndsWith("; use 443, not its targetPort 8443", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw102_NoPort_FlagsOnlyMultiPortTargets()
    {
        var two = Check(Se("se", "api.example.com", ports: "[{number: 443, name: tls, protocol: TLS}, {number: 80, name: http, protocol: HTTP}]"),
            Vs("api.example.com", "api.example.com", destExtra: "subset: ''"));
        var one = Check(Se("se", "api.example.com"), Vs("api.example.com", "api.example.com", destExtra: "subset: ''"));

        Assert.Equal("spec.tls[0].route[0].destination", Assert.Single(Of(two, RuleIds.DestinationPortUnknown)).Path);
        Assert.Empty(Of(one, RuleIds.DestinationPortUnknown));
    }

    [Fact]
    public void Egw102_ExactEntryWinsOverWildcard()
    {
        // the exact entry has only 443; the wildcard's 8443 does not make 8443 valid for this host
        var report = Check(Se("exact", "api.example.com"),
            Se("wild", "*.example.com", ports: "[{number: 8443, name: tls, protocol: TLS}]", resolution: "NONE"),
            Vs("api.example.com", "api.example.com", destExtra: "port: {number: 8443}"));

        Assert.Single(Of(report, RuleIds.DestinationPortUnknown));
    }

    [Fact]
    public void CheckChange_ServiceEntryPortUpdate_ReportsTheBrokenVirtualService()
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", Se("se", "api.example.com"), Vs("api.example.com", "api.example.com")), "default"));
        var updated = ManifestReader.Read(Se("se", "api.example.com", ports: "[{number: 8443, name: tls, protocol: TLS}]"), "default").Single();

        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Update, updated, null), RuleSettings.Default);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(RuleIds.DestinationPortUnknown, finding.Rule);
        Assert.Equal(new ObjectRef("VirtualService", "default", "vs"), finding.Object);
    }
}
