using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>The subtle parts of EGW101/102/103/104/107/115: wildcards, exportTo, Sidecar scope, the DR lookup path,
/// and severities that follow the outbound mode of the leg.</summary>
public sealed class CrossResourceRuleTests
{
    private const string RegistryOnly = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |-
            outboundTrafficPolicy:
              mode: REGISTRY_ONLY
        """;

    private static EgressReport Check(params string[] docs) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", docs), "default")), RuleSettings.Default);

    private static string Se(string name, string host, string ns = "default", string extra = "", string ports = "[{number: 443, name: tls, protocol: TLS}]", string resolution = "DNS") => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          hosts: ["{{host}}"]
          ports: {{ports}}
          resolution: {{resolution}}
        {{extra}}
        """;

    /// <summary>A VirtualService with one tls route to <paramref name="dest"/>; <paramref name="gateways"/> as a YAML list.</summary>
    private static string Vs(string host, string dest, string ns = "default", string gateways = "[mesh]", string destExtra = "port: {number: 443}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: vs, namespace: {{ns}}}
        spec:
          hosts: ["{{host}}"]
          gateways: {{gateways}}
          tls:
          - match: [{port: 443, sniHosts: ["{{host}}"]}]
            route:
            - destination: {host: "{{dest}}", {{destExtra}}}
        """;

    private static string EgressGateway(string host, string ns = "default") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: egress, namespace: {{ns}}}
        spec:
          selector: {istio: egressgateway}
          servers:
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: ["{{host}}"]
            tls: {mode: PASSTHROUGH}
        """;

    private static string Sidecar(string ns, string hosts, string mode = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: {{ns}}}
        spec:
          egress:
          - hosts: {{hosts}}
        {{(mode.Length > 0 ? $"  outboundTrafficPolicy: {{mode: {mode}}}" : "")}}
        """;

    private static List<Finding> Of(EgressReport report, string rule) => report.Findings.Where(f => f.Rule == rule).ToList();

    [Theory]
    [InlineData("*.example.com", "api.example.com", false)]
    [InlineData("*.example.com", "a.b.example.com", false)]
    [InlineData("*.example.com", "example.com", true)]
    [InlineData("api.example.com", "www.example.com", true)]
    public void Egw101_WildcardServiceEntry_CoversOnlyNamesUnderIt(string seHost, string dest, bool fires)
    {
        var report = Check(Se("se", seHost, resolution: "NONE"), Vs(dest, dest));

        Assert.Equal(fires, Of(report, RuleIds.DestinationHostNotRegistered).Count == 1);
    }

    [Fact]
    public void Egw101_ServiceEntryExportedElsewhere_IsUnregisteredForClient()
    {
        var hidden = Check(Se("se", "api.example.com", ns: "egress", extra: "  exportTo: [\".\"]"), Vs("api.example.com", "api.example.com"));
        var exported = Check(Se("se", "api.example.com", ns: "egress", extra: "  exportTo: [default]"), Vs("api.example.com", "api.example.com"));

        var finding = Assert.Single(Of(hidden, RuleIds.DestinationHostNotRegistered));
        Assert.Contains("not exported to default", finding.Message, StringComparison.Ordinal);
        Assert.Contains(new ObjectRef("ServiceEntry", "egress", "se"), finding.Related);
        Assert.Empty(Of(exported, RuleIds.DestinationHostNotRegistered));
    }

    [Fact]
    public void Egw101_SidecarEgressHosts_ScopeMeshLegsButNotGatewayLegs()
    {
        var sidecar = Sidecar("default", "[\"./*\"]");
        var se = Se("se", "api.example.com", ns: "egress");

        var mesh = Check(RegistryOnly, sidecar, se, Vs("api.example.com", "api.example.com"));
        var gateway = Check(RegistryOnly, sidecar, se, EgressGateway("api.example.com"), Vs("api.example.com", "api.example.com", gateways: "[egress]"));

        var finding = Assert.Single(Of(mesh, RuleIds.DestinationHostNotRegistered));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains(new ObjectRef("Sidecar", "default", "default"), finding.Related);
        Assert.Empty(Of(gateway, RuleIds.DestinationHostNotRegistered));
    }

    [Fact]
    public void Egw101_Severity_FollowsTheLegsOutboundMode()
    {
        // the namespace's Sidecar says REGISTRY_ONLY, the mesh ALLOW_ANY: mesh legs error; a gateway leg errs whatever the
        // mode, since a gateway has no passthrough for a route whose cluster does not exist (503 NC)
        var sidecar = Sidecar("default", "[\"*/*\"]", "REGISTRY_ONLY");

        var mesh = Check(sidecar, Vs("api.example.com", "api.example.com"));
        var gateway = Check(sidecar, EgressGateway("api.example.com"), Vs("api.example.com", "api.example.com", gateways: "[egress]"));
        var allowAny = Check(Vs("api.example.com", "api.example.com"));

        Assert.Equal(Severity.Error, Assert.Single(Of(mesh, RuleIds.DestinationHostNotRegistered)).Severity);
        var atGateway = Assert.Single(Of(gateway, RuleIds.DestinationHostNotRegistered));
        Assert.Equal(Severity.Error, atGateway.Severity);
        Assert.Contains("503 NC", atGateway.Message, StringComparison.Ordinal);
        var warned = Assert.Single(Of(allowAny, RuleIds.DestinationHostNotRegistered));
        Assert.Equal(Severity.Warning, warned.Severity);
        Assert.Contains("PassthroughCluster", warned.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw101_ClusterLocalHostWithoutAnyService_OnlyWarnsUnderRegistryOnly()
    {
        const string other = """
            apiVersion: v1
            kind: Service
            metadata: {name: other, namespace: apps}
            spec:
              ports: [{name: http, port: 80}]
            """;
        var vs = Vs("x.example.com", "istio-egressgateway.istio-system.svc.cluster.local");

        var noServices = Check(RegistryOnly, vs);
        var withServices = Check(RegistryOnly, other, vs);

        Assert.Equal(Severity.Warning, Assert.Single(Of(noServices, RuleIds.DestinationHostNotRegistered)).Severity);
        Assert.Equal(Severity.Error, Assert.Single(Of(withServices, RuleIds.DestinationHostNotRegistered)).Severity);
    }

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

    [Theory]
    [InlineData("*.wikipedia.org", "www.wikipedia.org", null)]
    [InlineData("api.example.com", "www.example.com", Severity.Error)]
    [InlineData("*.example.org", "www.example.com", Severity.Warning)]
    public void Egw103_HostIntersection_AndSeverityUnderRegistryOnly(string vsHost, string seHost, Severity? expected)
    {
        var report = Check(RegistryOnly, Se("se", seHost), Vs(vsHost, seHost));

        var findings = Of(report, RuleIds.VirtualServiceHostNotRegistered);
        Assert.Equal(expected, findings.Count == 0 ? null : findings.Single(f => f.Path == "spec.hosts[0]").Severity);
    }

    [Fact]
    public void Egw103_GatewayBound_OnlyEgressGatewaysAreJudged()
    {
        const string ingress = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: public, namespace: default}
            spec:
              selector: {istio: ingressgateway}
              servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: [shop.example.com], tls: {mode: PASSTHROUGH}}]
            """;
        var inCluster = Vs("shop.example.com", "shop.apps.svc.cluster.local", gateways: "[public]");

        var ingressReport = Check(RegistryOnly, ingress, inCluster);
        var egressReport = Check(RegistryOnly, EgressGateway("shop.example.com"), Vs("shop.example.com", "shop.apps.svc.cluster.local", gateways: "[egress]"));

        Assert.Empty(Of(ingressReport, RuleIds.VirtualServiceHostNotRegistered));
        var finding = Assert.Single(Of(egressReport, RuleIds.VirtualServiceHostNotRegistered));
        Assert.Contains(new ObjectRef("Gateway", "default", "egress"), finding.Related);
    }

    [Theory]
    [InlineData("./shop.example.com", "istio-system", false)]
    [InlineData("./shop.example.com", "default", true)]
    [InlineData("default/shop.example.com", "istio-system", true)]
    [InlineData("other/shop.example.com", "istio-system", false)]
    [InlineData("*/shop.example.com", "istio-system", true)]
    [InlineData("shop.example.com", "istio-system", true)]
    [InlineData("*/*.example.com", "istio-system", true)]
    [InlineData("*/example.com", "istio-system", false)]
    public void Egw104_ServerHostNamespaceRules(string serverHost, string gatewayNamespace, bool admitted)
    {
        var gateway = $$$"""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: {{{gatewayNamespace}}}}
            spec:
              selector: {istio: egressgateway}
              servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["{{{serverHost}}}"], tls: {mode: PASSTHROUGH}}]
            """;

        var report = Check(Se("se", "shop.example.com"), gateway, Vs("shop.example.com", "shop.example.com", gateways: $"[{gatewayNamespace}/gw]"));

        Assert.Equal(admitted, Of(report, RuleIds.GatewayReference).Count == 0);
    }

    [Fact]
    public void Egw104_MissingGateway_IsAnErrorOnlyWhenTheViewHasGateways()
    {
        var vs = Vs("api.example.com", "api.example.com", gateways: "[missing]");

        var withGateways = Check(Se("se", "api.example.com"), EgressGateway("api.example.com"), vs);
        var withoutGateways = Check(Se("se", "api.example.com"), vs);

        Assert.Equal(Severity.Error, Assert.Single(Of(withGateways, RuleIds.GatewayReference)).Severity);
        Assert.Equal(Severity.Warning, Assert.Single(Of(withoutGateways, RuleIds.GatewayReference)).Severity);
    }

    [Fact]
    public void Egw104_MissingGateway_IsAnErrorAgainstTheWholeCluster_EvenWithNoGatewayAtAll()
    {
        var objects = ManifestReader.Read(string.Join("\n---\n", Se("se", "api.example.com"), Vs("api.example.com", "api.example.com", gateways: "[missing]")), "default");
        var wholeCluster = RuleSettings.Default with { WholeCluster = true };

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), wholeCluster);

        var finding = Assert.Single(Of(report, RuleIds.GatewayReference));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains("Gateway default/missing does not exist", finding.Message, StringComparison.Ordinal);
    }

    private static string Dr(string ns, string host, string subset, string extra = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: dr, namespace: {{ns}}}
        spec:
          host: "{{host}}"
          subsets: [{name: {{subset}}}]
        {{extra}}
        """;

    private const string Reviews = """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: bookinfo}
        spec:
          ports: [{name: http, port: 9080}]
        """;

    private static string ReviewsVs(string host = "reviews.bookinfo.svc.cluster.local") =>
        Vs("reviews.bookinfo.svc.cluster.local", host, ns: "frontend", destExtra: "subset: v1");

    [Theory]
    [InlineData("bookinfo", "", false)] // the host's namespace
    [InlineData("frontend", "", false)] // the client's namespace
    [InlineData("istio-system", "", false)] // the root namespace
    [InlineData("team-b", "", true)] // off the path
    [InlineData("bookinfo", "  exportTo: [\".\"]", true)] // on the path but not exported to the client
    public void Egw107_LookupPath(string drNamespace, string exportTo, bool fires)
    {
        var report = Check(Reviews, Dr(drNamespace, "reviews.bookinfo.svc.cluster.local", "v1", exportTo), ReviewsVs());

        Assert.Equal(fires, Of(report, RuleIds.SubsetNotFound).Any(f => f.Object.Kind == "VirtualService" && f.Severity == Severity.Error));
    }

    [Fact]
    public void Egw107_SubsetOnlyInTheVirtualServiceNamespace_WarnsForClientsInOtherNamespaces()
    {
        // istio/istio#15556: the mesh route applies in bookinfo too (it holds an object, so it has clients), and bookinfo
        // looks its DestinationRules up from bookinfo: the one in frontend is not on that path
        var report = Check(Reviews, Dr("frontend", "reviews.bookinfo.svc.cluster.local", "v1"), ReviewsVs());

        var finding = Assert.Single(Of(report, RuleIds.SubsetNotFound));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Contains("clients in bookinfo", finding.Message, StringComparison.Ordinal);
        Assert.Contains(new ObjectRef("DestinationRule", "frontend", "dr"), finding.Related);
    }

    [Fact]
    public void Egw107_SubsetInTheHostNamespace_NoWarningForOtherClients()
    {
        var report = Check(Reviews, Dr("bookinfo", "reviews.bookinfo.svc.cluster.local", "v1"), ReviewsVs(),
            Vs("other.example.com", "other.example.com", ns: "team-c"));

        Assert.Empty(Of(report, RuleIds.SubsetNotFound));
    }

    [Fact]
    public void Egw107_ClientNamespaceRuleWithoutSubset_HidesTheHostNamespaceRule()
    {
        var report = Check(Reviews, Dr("bookinfo", "reviews.bookinfo.svc.cluster.local", "v1"),
            Dr("frontend", "reviews.bookinfo.svc.cluster.local", "v2"), ReviewsVs());

        var finding = Assert.Single(Of(report, RuleIds.SubsetNotFound));
        Assert.Contains("frontend/dr", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw107_DottedHostIsTakenAsWritten()
    {
        // reviews.bookinfo is not reviews.bookinfo.svc.cluster.local (Istio's ResolveShortnameToFQDN)
        var report = Check(Reviews, Dr("bookinfo", "reviews", "v1"), ReviewsVs("reviews.bookinfo"));

        Assert.Contains(Of(report, RuleIds.SubsetNotFound), f => f.Path == "spec.tls[0].route[0].destination.subset");
    }

    [Fact]
    public void Egw107_RuleInTheServiceEntrysNamespace_IsOnThePath()
    {
        var report = Check(Se("se", "api.example.com", ns: "egress"), Dr("egress", "api.example.com", "v1"),
            Vs("api.example.com", "api.example.com", ns: "apps", destExtra: "subset: v1, port: {number: 443}"));

        Assert.Empty(Of(report, RuleIds.SubsetNotFound));
    }

    [Fact]
    public void Egw107_DestinationRuleHostNotRegistered_Warns()
    {
        var report = Check(Dr("default", "fake.default.svc.cluster.local", "v1"), Dr("istio-system", "*.local", "v1").Replace("name: dr", "name: mesh", StringComparison.Ordinal));

        var finding = Assert.Single(Of(report, RuleIds.SubsetNotFound));
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal("spec.host", finding.Path);
    }

    [Theory]
    [InlineData("NONE", "", true)]
    [InlineData("DNS", "", false)]
    [InlineData("NONE", "  workloadSelector: {labels: {app: api}}", false)]
    [InlineData("NONE", "  endpoints: [{address: 10.0.0.1}]", false)]
    public void Egw115_GatewayLegToNoneResolution(string resolution, string extra, bool fires)
    {
        var report = Check(Se("se", "api.example.com", resolution: resolution, extra: extra), EgressGateway("api.example.com"),
            Vs("api.example.com", "api.example.com", gateways: "[egress]"));

        Assert.Equal(fires, Of(report, RuleIds.GatewayToNoneResolutionLoop).Count == 1);
    }

    [Fact]
    public void Egw115_ExactDnsEntryWinsOverNoneWildcard()
    {
        // the wildcard-egress-hosts task: *.wikipedia.org (NONE) at the sidecar, www.wikipedia.org (DNS) from the gateway
        var report = Check(Se("wild", "*.wikipedia.org", resolution: "NONE"), Se("www", "www.wikipedia.org"),
            EgressGateway("*.wikipedia.org"), Vs("*.wikipedia.org", "www.wikipedia.org", gateways: "[egress]"));

        Assert.Empty(Of(report, RuleIds.GatewayToNoneResolutionLoop));
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

    [Theory]
    [InlineData("ServiceEntry", RuleIds.DestinationHostNotRegistered)]
    [InlineData("Gateway", RuleIds.GatewayReference)]
    [InlineData("DestinationRule", RuleIds.SubsetNotFound)]
    public void CheckChange_DeletingWhatAVirtualServiceUses_WarnsEgw114(string kind, string cause)
    {
        var objects = ManifestReader.Read(string.Join("\n---\n", Se("se", "api.example.com"), EgressGateway("api.example.com"),
            Dr("default", "api.example.com", "v1"), Vs("api.example.com", "api.example.com", gateways: "[egress]", destExtra: "subset: v1, port: {number: 443}")), "default");
        var deleted = objects.Single(o => o.KindName == kind);

        var report = EgressEngine.Default.CheckChange(EgressSnapshot.Create(objects), new ObjectChange(Operation.Delete, null, deleted), RuleSettings.Default);

        Assert.Contains(report.Findings, f => f.Rule == RuleIds.DeleteLeavesDanglingReference && f.Severity == Severity.Warning &&
                                              f.Object == deleted.Ref && f.Message.Contains(cause, StringComparison.Ordinal));
        Assert.All(report.Findings, f => Assert.Equal(RuleIds.DeleteLeavesDanglingReference, f.Rule));
    }
}
