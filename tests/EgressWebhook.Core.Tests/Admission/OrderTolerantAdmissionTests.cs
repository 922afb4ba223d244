using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Admission;

/// <summary>Incompleteness is admitted with a warning and re-checked; contradictions deny; Strict keeps the denial.
/// Each write is validated against the state the writes before it left (as one <c>kubectl apply</c> does).</summary>
public sealed class OrderTolerantAdmissionTests
{
    private static readonly AdmissionHandler Handler = AdmissionHandler.Default;

    // a cluster has Services before any egress object: absence of the gateway Service is then evidence (EGW101 error)
    private const string KubeDns = """
        apiVersion: v1
        kind: Service
        metadata: {name: kube-dns, namespace: kube-system}
        spec:
          selector: {k8s-app: kube-dns}
          ports: [{name: dns, port: 53, protocol: UDP}]
        """;

    /// <summary>File orders: the walkthrough's (gateway installed, cnn entry, routing, DestinationRule, REGISTRY_ONLY,
    /// google entry), lexical and reversed (one <c>kubectl apply -f seed/</c>).</summary>
    public static TheoryData<string> SeedOrders => new() { "5,1,2,3,0,4", "0,1,2,3,4,5", "5,4,3,2,1,0" };

    [Theory]
    [MemberData(nameof(SeedOrders))]
    public void SeedFolder_InAnyFileOrder_EveryWriteAdmitted_EndsWithZeroFindings_AndNothingStillAwaited(string order)
    {
        var files = order.Split(',').Select(i => Directory.GetFiles(TestPaths.Seed, $"0{i}-*.yaml").Single());

        var (state, awaiting) = ApplyInOrder(files.SelectMany(f => Documents(File.ReadAllText(f))), AdmissionSettings.Default);

        Assert.Empty(EgressEngine.Default.CheckAll(state, RuleSettings.Default).Findings);
        Assert.Empty(Handler.Recheck(state, null, awaiting, AdmissionSettings.Default));
        if (order != "5,1,2,3,0,4")
        {
            // out of the walkthrough's order something waited for a later write of the same apply
            Assert.NotEmpty(awaiting);
        }
    }

    [Fact]
    public void SeedRoutingFile_MeshLegBeforeGatewayLeg_AdmittedWithAWarningNamingTheGatewayLeg()
    {
        var state = Snapshot(Seed(0, 1, 3, 4, 5) + "\n---\n" + KubeDns);
        var docs = Documents(File.ReadAllText(Path.Combine(TestPaths.Seed, "02-egress-gateway-routing.yaml")));
        state = With(state, docs[0]);

        var mesh = Handler.Validate(Create(docs[1]), state, AdmissionSettings.Default);

        Assert.True(mesh.Allowed);
        Assert.Equal(AdmissionOutcome.Warned, mesh.Outcome);
        var awaited = Assert.Single(mesh.Awaiting);
        Assert.Equal((RuleIds.IncompleteEgressChain, Severity.Error, FindingKind.Incompleteness), (awaited.Rule, awaited.Severity, awaited.Kind));
        Assert.Equal("the gateway leg for edition.cnn.com", awaited.Awaits!.What);
        var warning = Assert.Single(mesh.Response.Warnings!);
        Assert.StartsWith("EGW113 VirtualService default/mesh-to-egress-ga", warning, StringComparison.Ordinal);
        Assert.EndsWith(": awaiting the gateway leg for edition.cnn.com; re-check in 30s", warning, StringComparison.Ordinal);
        Assert.True(warning.Length <= Finding.MaxHeadline - "Warning: ".Length, warning);
        Assert.Equal("warned", mesh.Response.AuditAnnotations!["decision"]);

        // the gateway leg arrives: the re-check finds the chain complete; without it, the finding still holds
        Assert.Single(Handler.Recheck(state, mesh.Admitted, mesh.Awaiting, AdmissionSettings.Default));
        var complete = With(With(state, docs[1]), docs[2]);
        Assert.Empty(Handler.Recheck(complete, null, mesh.Awaiting, AdmissionSettings.Default));
    }

    [Theory]
    [InlineData("Strict", null)]
    [InlineData(null, "EGW113")]
    public void MeshLegWithoutGatewayLeg_Strict_IsDeniedAsBefore(string? enforcement, string? strictRule)
    {
        var state = Snapshot(Seed(0, 1, 3, 4, 5) + "\n---\n" + KubeDns);
        var docs = Documents(File.ReadAllText(Path.Combine(TestPaths.Seed, "02-egress-gateway-routing.yaml")));
        state = With(state, docs[0]);
        var settings = AdmissionSettings.Default with
        {
            Enforcement = enforcement is null ? ChainEnforcement.Tolerant : Enum.Parse<ChainEnforcement>(enforcement),
            Policy = strictRule is null ? RuleSettings.Default : new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [strictRule] = Enforcement.Strict } },
        };

        var mesh = Handler.Validate(Create(docs[1]), state, settings);

        Assert.False(mesh.Allowed);
        Assert.Contains("EGW113 VirtualService default/mesh-to-egress-gateway", mesh.Response.Status!.Message!, StringComparison.Ordinal);
        Assert.Empty(mesh.Awaiting);
    }

    [Theory]
    [InlineData(2, "port: 443\n      sniHosts", "port: 8443\n      sniHosts", "EGW105")]
    [InlineData(2, "  tls:\n  - match:\n    - port: 443\n      sniHosts:\n      - edition.cnn.com", "  http:\n  - match:\n    - port: 443", "EGW105")]
    [InlineData(1, "number: 443", "number: 8443", "EGW102")]
    public void Contradiction_WrongPortOrProtocol_IsStillDenied(int document, string from, string to, string rule)
    {
        var state = Snapshot(Seed(0, 1, 2, 3, 4, 5));
        var changed = Documents(File.ReadAllText(Path.Combine(TestPaths.Seed, "02-egress-gateway-routing.yaml")))[document];
        Assert.Contains(from, changed, StringComparison.Ordinal);

        var decision = Handler.Validate(Update(changed.Replace(from, to, StringComparison.Ordinal)), state, AdmissionSettings.Default);

        Assert.False(decision.Allowed);
        Assert.Contains(rule, decision.RuleIds);
        Assert.Empty(decision.Awaiting);
    }

    [Fact]
    public void ContradictionAndIncompleteness_Together_AreDenied_WithBothListed()
    {
        // a gateway leg that matches a port the Gateway does not serve (contradiction) and routes to an unregistered host
        var state = Snapshot(Seed(0, 2, 5));
        var leg = Documents(File.ReadAllText(Path.Combine(TestPaths.Seed, "02-egress-gateway-routing.yaml")))[2]
            .Replace("port: 443\n      sniHosts", "port: 8443\n      sniHosts", StringComparison.Ordinal);

        var decision = Handler.Validate(Update(leg), state, AdmissionSettings.Default);

        Assert.False(decision.Allowed);
        Assert.Contains("EGW105", decision.RuleIds);
        Assert.Contains("EGW101", decision.RuleIds);
        Assert.Empty(decision.Awaiting);
    }

    [Fact]
    public void FindingKinds_FollowTheRuleCatalogue()
    {
        // the seed without its ServiceEntries: the gateway leg's destination host awaits a ServiceEntry (incompleteness);
        // hidden from the gateway's namespace by exportTo it is a contradiction
        var missing = EgressEngine.Default.CheckAll(Snapshot(Seed(0, 2, 3, 5)), RuleSettings.Default).Findings;
        var hiddenEntry = File.ReadAllText(Path.Combine(TestPaths.Seed, "01-serviceentry-cnn.yaml")).Replace("  resolution: DNS", "  resolution: DNS\n  exportTo: [\".\"]", StringComparison.Ordinal);
        var hidden = EgressEngine.Default.CheckAll(Snapshot(Seed(0, 2, 3, 5) + "\n---\n" + hiddenEntry), RuleSettings.Default).Findings;

        Assert.All(missing.Where(f => f.Rule is "EGW101" or "EGW103"), f => Assert.Equal(ResourceKind.ServiceEntry, f.Awaits?.Kind));
        Assert.Contains(missing, f => f.Rule == "EGW101");
        Assert.Contains(hidden, f => f.Rule == "EGW101" && f.Kind == FindingKind.Contradiction);
    }

    // an egress gateway Service in istio-system and an entry in team-b exported only there: fine for the gateway, which
    // runs in istio-system; the Gateway the leg names (team-b/istio-egressgateway) is applied after the leg
    private const string EntryForGatewayOnly = """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system}
        spec: {selector: {istio: egressgateway}, ports: [{name: tls, port: 443}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: cnn, namespace: team-b}
        spec: {hosts: [edition.cnn.com], exportTo: [istio-system], resolution: DNS, ports: [{number: 443, name: tls, protocol: TLS}]}
        """;

    private const string LegGateway = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: istio-egressgateway, namespace: team-b}
        spec:
          selector: {istio: egressgateway}
          servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: [edition.cnn.com], tls: {mode: PASSTHROUGH}}]
        """;

    private static string GatewayLeg(string gateways) => """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: leg, namespace: team-b}
        spec:
          hosts: [edition.cnn.com]
          gateways: [GATEWAYS]
          tls: [{match: [{port: 443, sniHosts: [edition.cnn.com]}], route: [{destination: {host: edition.cnn.com, port: {number: 443}}}]}]
        """.Replace("GATEWAYS", gateways, StringComparison.Ordinal);

    [Fact]
    public void GatewayLegBeforeItsGateway_EntryExportedOnlyToTheGatewayNamespace_AdmittedAwaitingTheGateway_NoFalseEgw101()
    {
        var cluster = AdmissionSettings.Default with { Policy = RuleSettings.Default with { WholeCluster = true } };
        var state = Snapshot(EntryForGatewayOnly);

        // the Gateway is missing, so where the leg will run is unknown: it is not judged from team-b (EGW101/EGW107 would
        // say the entry is not exported to team-b, a contradiction that denied the write)
        var leg = Handler.Validate(Create(GatewayLeg("istio-egressgateway")), state, cluster);

        Assert.True(leg.Allowed, leg.Response.Status?.Message);
        Assert.Equal(AdmissionOutcome.Warned, leg.Outcome);
        Assert.DoesNotContain("EGW101", leg.RuleIds);
        var awaited = Assert.Single(leg.Awaiting);
        Assert.Equal((RuleIds.GatewayReference, FindingKind.Incompleteness), (awaited.Rule, awaited.Kind));

        // the Gateway arrives: its workload runs in istio-system, which sees the entry; the re-check finds nothing
        Assert.Empty(Handler.Recheck(With(With(state, GatewayLeg("istio-egressgateway")), LegGateway), null, leg.Awaiting, cluster));
    }

    [Fact]
    public void LegAlsoBoundToMesh_GatewayMissing_IsStillJudgedFromTheSidecarsOfItsNamespace()
    {
        // near miss: bound to mesh too, the leg runs in team-b's sidecars, which the entry is really not exported to (a
        // contradiction; a warning under ALLOW_ANY, where the sidecars pass the traffic through)
        var cluster = AdmissionSettings.Default with { Policy = RuleSettings.Default with { WholeCluster = true } };

        var leg = Handler.Validate(Create(GatewayLeg("mesh, istio-egressgateway")), Snapshot(EntryForGatewayOnly), cluster);

        Assert.Contains(leg.Findings, f => f is { Rule: "EGW101", Kind: FindingKind.Contradiction } &&
                                           f.Message.Contains("ServiceEntry team-b/cnn is not exported to team-b", StringComparison.Ordinal));
    }

    /// <summary>Validates each document as a CREATE against the state so far and adds it; every write must be admitted.</summary>
    internal static (EgressSnapshot State, List<Finding> Awaiting) ApplyInOrder(IEnumerable<string> documents, AdmissionSettings settings)
    {
        var state = Snapshot(KubeDns);
        var awaiting = new List<Finding>();
        foreach (var doc in documents)
        {
            var decision = Handler.Validate(Create(doc), state, settings);
            Assert.True(decision.Allowed, $"refused: {decision.Response.Status?.Message}");
            awaiting.AddRange(decision.Awaiting);
            state = With(state, doc);
        }

        return (state, awaiting);
    }

    private static string Seed(params int[] files) => string.Join("\n---\n",
        files.Select(i => File.ReadAllText(Directory.GetFiles(TestPaths.Seed, $"{i:00}-*.yaml").Single())));

    private static EgressSnapshot Snapshot(string yaml) => EgressSnapshot.Create(ManifestReader.Read(yaml));

    private static EgressSnapshot With(EgressSnapshot state, string yaml) => EgressSnapshot.Create(state.Objects.Concat(ManifestReader.Read(yaml)));

    /// <summary>The YAML documents of a file, one string each (comments dropped).</summary>
    internal static List<string> Documents(string yaml) =>
        [.. yaml.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Where(d => d.Contains("kind:", StringComparison.Ordinal)).Select(d => d.Trim('\n', '-'))];

    private static AdmissionRequest Create(string yaml) => Request("CREATE", yaml);

    private static AdmissionRequest Update(string yaml) => Request("UPDATE", yaml);

    private static AdmissionRequest Request(string operation, string yaml)
    {
        var json = YamlJson.ParseDocuments(yaml).Single().Json;
        var apiVersion = json.GetProperty("apiVersion").GetString()!;
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var meta = json.GetProperty("metadata");
        return new AdmissionRequest
        {
            Uid = Guid.NewGuid().ToString(),
            Kind = new GroupVersionKind
            {
                Group = slash < 0 ? "" : apiVersion[..slash],
                Version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..],
                Kind = json.GetProperty("kind").GetString(),
            },
            Name = meta.GetProperty("name").GetString(),
            Namespace = meta.TryGetProperty("namespace", out var ns) ? ns.GetString() : "default",
            Operation = operation,
            Object = JsonSerializer.SerializeToElement(json, EgressJsonContext.Default.JsonElement),
        };
    }
}
