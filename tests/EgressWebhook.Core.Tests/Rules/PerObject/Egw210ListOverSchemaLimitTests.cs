using System.Globalization;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using static EgressWebhook.Core.Tests.Rules.RuleChecks;

namespace EgressWebhook.Core.Tests.Rules.PerObject;

/// <summary>EGW210: a list longer than Istio's CRD schema allows (<c>maxItems</c>), and the engine's gate: such an
/// object gets that finding alone, and the mutation plans nothing for it.</summary>
public sealed class Egw210ListOverSchemaLimitTests
{
    private static string Items(int count, Func<int, string> item) => "[" + string.Join(", ", Enumerable.Range(0, count).Select(item)) + "]";

    private static string Hosts(int count) => Items(count, i => $"h{i}.example.com");

    /// <summary>A ServiceEntry with <paramref name="hosts"/> (a YAML list) and one TLS port unless <paramref name="ports"/>.</summary>
    private static string Entry(string hosts, string ports = "[{number: 8443, name: p, protocol: HTTPS}]", string extra = "", string name = "big", string resolution = "DNS") => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{name}}, namespace: default}
        spec:
          hosts: {{hosts}}
          ports: {{ports}}
          resolution: {{resolution}}
        {{extra}}
        """;

    private static string Dr(string spec) => $$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: dr, namespace: default}
        spec:
          host: api.example.com
        {{spec}}
        """;

    private static string PortSettings(int count) => Items(count, i => $"{{port: {{number: {1 + i}}}, tls: {{mode: SIMPLE}}}}");

    /// <summary>Each bounded list of the CRDs (crd-all.gen.yaml, Istio 1.32), grown to <c>count</c> items.</summary>
    private static readonly Dictionary<string, (int Limit, Func<int, string> Object)> Lists = new()
    {
        ["spec.hosts"] = (256, n => Entry(Hosts(n))),
        ["spec.addresses"] = (256, n => Entry("[api.example.com]", extra: $"  addresses: {Items(n, i => $"10.0.{i / 256}.{i % 256}")}", resolution: "STATIC")),
        ["spec.ports"] = (256, n => Entry("[api.example.com]", Items(n, i => $"{{number: {1000 + i}, name: p{i}, protocol: TLS}}"))),
        ["spec.endpoints"] = (4096, n => Entry("[api.example.com]", resolution: "STATIC",
            extra: $"  endpoints: {Items(n, i => $"{{address: 10.{i / 65536}.{i / 256 % 256}.{i % 256}}}")}")),
        ["spec.trafficPolicy.portLevelSettings"] = (4096, n => Dr($"  trafficPolicy: {{portLevelSettings: {PortSettings(n)}}}")),
        ["spec.subsets[1].trafficPolicy.portLevelSettings"] = (4096, n => Dr($"  subsets: [{{name: v1}}, {{name: v2, trafficPolicy: {{portLevelSettings: {PortSettings(n)}}}}}]")),
        ["spec.servers[0].tls.credentialNames"] = (2, n => $$"""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: default}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: [api.example.com]
                tls: {mode: SIMPLE, credentialNames: {{Items(n, i => $"cert-{i}")}}}
            """),
        ["spec.targetRefs"] = (16, n => $$"""
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ap, namespace: default}
            spec:
              action: DENY
              targetRefs: {{Items(n, i => $"{{group: networking.istio.io, kind: ServiceEntry, name: se{i}}}")}}
            """),
    };

    public static TheoryData<string> ListPaths => new(Lists.Keys);

    [Theory]
    [MemberData(nameof(ListPaths))]
    public void Egw210_ListOneOverItsLimit_IsAnErrorOnTheList(string path)
    {
        var (limit, build) = Lists[path];

        var report = Check(build(limit + 1));

        var finding = Assert.Single(Of(report, RuleIds.ListOverSchemaLimit));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(path, finding.Path);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"{limit + 1:N0} items, more than Istio's CRD allows ({limit:N0}); "), finding.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ListPaths))]
    public void Egw210_ListAtItsLimit_IsAllowed(string path)
    {
        var (limit, build) = Lists[path];

        var report = Check(build(limit));

        Assert.Empty(Of(report, RuleIds.ListOverSchemaLimit));
    }

    [Fact]
    public void Egw210_ServiceEntryHosts_MessageSaysHowToSplitIt()
    {
        var report = Check(Entry(Hosts(257)));

        var finding = Assert.Single(report.Findings);
        Assert.Equal(new ObjectRef("ServiceEntry", "default", "big"), finding.Object);
        Assert.Equal("257 items, more than Istio's CRD allows (256); split the hosts over several ServiceEntries", finding.Message);
    }

    [Fact]
    public void Egw210_SeveralListsOver_OneFindingOnTheFirstCountingTheOthers()
    {
        var report = Check(Entry(Hosts(300), Items(257, i => $"{{number: {1000 + i}, name: p{i}, protocol: TLS}}"),
            $"  addresses: {Items(257, i => $"10.0.{i / 256}.{i % 256}")}"));

        var finding = Assert.Single(Of(report, RuleIds.ListOverSchemaLimit));
        Assert.Equal("spec.hosts", finding.Path);
        Assert.Equal("300 items, more than Istio's CRD allows (256) (+2 more lists); split the hosts over several ServiceEntries", finding.Message);
    }

    // an existing entry that gives api.example.com:8443 another protocol: EGW110 on both entries when both are checked
    private static readonly string Https = Entry("[api.example.com]", "[{number: 8443, name: p, protocol: TLS}]", name: "api");

    private static string BigWithApi(int hosts) => Entry(Items(hosts, i => i == 0 ? "api.example.com" : $"h{i}.example.com"));

    [Fact]
    public void Egw210_Gate_OverLimitEntry_GetsOnlyEgw210_NoOtherRuleNoDependent()
    {
        var report = CheckChange(BigWithApi(257), Https);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(RuleIds.ListOverSchemaLimit, finding.Rule);
        Assert.Equal("big", finding.Object.Name);
    }

    [Fact]
    public void Egw210_Gate_AtTheLimit_TheOtherRulesRunAsUsual()
    {
        var report = CheckChange(BigWithApi(256), Https);

        Assert.Empty(Of(report, RuleIds.ListOverSchemaLimit));
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "big");
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "api");
    }

    [Fact]
    public void Egw210_Off_OverLimitEntry_GetsTheOtherFindingsAsBefore()
    {
        var off = new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = Enforcement.Off } };

        var report = CheckChange(off, BigWithApi(257), Https);

        Assert.Empty(Of(report, RuleIds.ListOverSchemaLimit));
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "big");
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "api");
        Assert.Empty(Of(Check(off, BigWithApi(257), Https), RuleIds.ListOverSchemaLimit));
    }

    [Fact]
    public void Egw210_Warn_OverLimitEntry_IsWarned_AndTheOtherRulesStillRun()
    {
        // a warning admits the object: nothing else may be skipped then (no guardrail bypassed by a long list)
        var warn = new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = Enforcement.Warn } };

        var report = CheckChange(warn, BigWithApi(257), Https);

        Assert.Equal(Severity.Warning, Assert.Single(Of(report, RuleIds.ListOverSchemaLimit)).Severity);
        Assert.Contains(report.Findings, f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "big");
    }

    [Fact]
    public void Egw210_CheckOfFiles_OverLimitEntry_GetsOnlyEgw210()
    {
        var report = Check(BigWithApi(257), Https);

        Assert.Equal([RuleIds.ListOverSchemaLimit], report.Findings.Where(f => f.Object.Name == "big").Select(f => f.Rule));
    }

    [Fact]
    public void Egw210_Update_ListKeptAtItsLength_IsNotJudged_GrowingItIs()
    {
        // a stored entry from before the limits: labelling it is no new excess (the API server ratchets unchanged values)
        var stored = Entry(Hosts(300));
        var labelled = stored.Replace("metadata: {name: big, namespace: default}", "metadata: {name: big, namespace: default, labels: {team: a}}", StringComparison.Ordinal);
        Assert.NotEqual(stored, labelled);

        Assert.Empty(Of(CheckChange(labelled, stored), RuleIds.ListOverSchemaLimit));
        Assert.Equal("spec.hosts", Assert.Single(Of(CheckChange(Entry(Hosts(301)), stored), RuleIds.ListOverSchemaLimit)).Path);
    }

    [Fact]
    public void Egw210_Delete_OfAStoredOverLimitEntry_IsJudgedAsAnyDelete()
    {
        var stored = BigWithApi(300);
        var route = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: vs, namespace: default}
            spec:
              hosts: [api.example.com]
              tls:
              - match: [{port: 8443, sniHosts: [api.example.com]}]
                route:
                - destination: {host: api.example.com, port: {number: 8443}}
            """;
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(stored + "\n---\n" + route, "default"));
        var entry = snapshot.Find(new ObjectKey(ResourceKind.ServiceEntry, "default", "big"))!;

        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Delete, null, entry), RuleSettings.Default);

        Assert.Equal([RuleIds.DeleteLeavesDanglingReference], report.Findings.Select(f => f.Rule).Distinct());
    }

    [Theory]
    [InlineData(257, false)]
    [InlineData(256, true)]
    public void Egw210_Admission_RefusedWithTheFindingAlone_AndNoHostDelta(int hosts, bool allowed)
    {
        var request = new AdmissionRequest
        {
            Uid = "u1",
            Kind = new GroupVersionKind { Group = "networking.istio.io", Version = "v1", Kind = "ServiceEntry" },
            Name = "big",
            Namespace = "default",
            Operation = "CREATE",
            Object = Assert.Single(YamlJson.ParseDocuments(BigWithApi(hosts).Replace("HTTPS", "TLS", StringComparison.Ordinal))).Json,
        };

        var decision = AdmissionHandler.Default.Validate(request, EgressSnapshot.Create(ManifestReader.Read(Https, "default")), AdmissionSettings.Default);

        Assert.Equal(allowed, decision.Allowed);
        if (allowed)
        {
            Assert.Equal(hosts, decision.HostsAdded.Count);
        }
        else
        {
            // refused for its size: the audit line has the rule and the finding the count, no list of 150,000 hosts to build
            Assert.Equal([RuleIds.ListOverSchemaLimit], decision.Findings.Select(f => f.Rule));
            Assert.Empty(decision.HostsAdded);
        }
    }

    private const string GatewayService = """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system}
        spec:
          selector: {istio: egressgateway}
          ports: [{name: https, port: 443}]
        """;

    private static string OptedIn(int hosts) => Entry(Hosts(hosts), "[{number: 443, protocol: TLS}]")
        .Replace("namespace: default}", "namespace: default, annotations: {egress.istio.io/gateway: istio-system/istio-egressgateway}}", StringComparison.Ordinal);

    private static AdmissionDecision Mutate(string entry, RuleSettings? policy = null)
    {
        var request = new AdmissionRequest
        {
            Uid = "u1",
            Kind = new GroupVersionKind { Group = "networking.istio.io", Version = "v1", Kind = "ServiceEntry" },
            Name = "big",
            Namespace = "default",
            Operation = "CREATE",
            Object = Assert.Single(YamlJson.ParseDocuments(entry)).Json,
        };
        var settings = policy is null ? AdmissionSettings.Default : AdmissionSettings.Default with { Policy = policy };
        return AdmissionHandler.Default.Mutate(request, EgressSnapshot.Create(ManifestReader.Read(GatewayService)), settings);
    }

    [Fact]
    public void Egw413_Mutation_OverLimitEntry_NoPatch_TheNoticeSaysWhy()
    {
        var decision = Mutate(OptedIn(257));

        Assert.True(decision.Allowed);
        Assert.Null(decision.Response.Patch);
        var notice = Assert.Single(decision.Findings);
        Assert.Equal(RuleIds.RoutingSkippedSchemaLimits, notice.Rule);
        Assert.Equal(Severity.Warning, notice.Severity);
        Assert.Equal("spec.hosts", notice.Path);
        Assert.Equal("257 items, more than Istio's CRD allows (256): the API server refuses the entry (EGW210), so no routing", notice.Message);
        Assert.StartsWith("EGW413 ServiceEntry default/big", Assert.Single(decision.Response.Warnings!), StringComparison.Ordinal);
    }

    [Fact]
    public void Egw413_Mutation_OverLimitEntryNotAskingForRouting_NoNotice_AllowedAsBefore()
    {
        var decision = Mutate(Entry(Hosts(257), "[{number: 443, protocol: TLS}]"));

        Assert.True(decision.Allowed);
        Assert.Empty(decision.Findings);
        Assert.Null(decision.Response.Warnings);
    }

    [Theory]
    [InlineData(256, null)] // at the limit
    [InlineData(257, Enforcement.Off)] // EGW210 off: defaulted and planned as before
    [InlineData(257, Enforcement.Warn)] // a warning admits the entry: defaulted as before
    public void Egw413_Mutation_EntryEgw210DoesNotRefuse_IsDefaultedAsBefore(int hosts, Enforcement? egw210)
    {
        var policy = egw210 is { } e ? new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = e } } : null;

        var decision = Mutate(OptedIn(hosts), policy);

        Assert.DoesNotContain(decision.Findings, w => w.Rule == RuleIds.RoutingSkippedSchemaLimits);
        Assert.Contains(decision.PatchOperations, p => p.Path == "/spec/ports/0/name");
    }

    [Fact]
    public void Egw413_Generator_StoredOverLimitEntry_IsPlannedAsBefore()
    {
        // a stored entry is not under admission: its routing stays as the generator made it before the limits
        var entry = (ServiceEntry)Assert.Single(ManifestReader.Read(OptedIn(257).Replace("{number: 443, protocol: TLS}", "{number: 443, name: tls, protocol: TLS}", StringComparison.Ordinal), "default"));
        var view = SnapshotView.With(EgressSnapshot.Create(ManifestReader.Read(GatewayService)), entry);

        var plan = RoutingPlanner.Plan(entry, new GatewayServiceRef("istio-system", "istio-egressgateway"), view);

        Assert.True(plan.Routed, string.Join("; ", plan.Notices.Select(n => n.Message)));
        Assert.DoesNotContain(plan.Notices, n => n.Rule == RuleIds.RoutingSkippedSchemaLimits);
    }
}
