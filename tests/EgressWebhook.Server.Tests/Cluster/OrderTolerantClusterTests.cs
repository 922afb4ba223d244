using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Tests.Fakes;
using EgressWebhook.Server.Tests.Generation;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>The webhook (cluster source) behind the fake API server's admission chain, as kubectl and the generator meet
/// it: every write goes through /mutate and /validate. One apply of the seed in any order is admitted in a single pass and
/// ends with zero findings; contradictions are refused; a missing leg is reported as an Event after the grace period.</summary>
public sealed class OrderTolerantClusterTests
{
    // a cluster before the walkthrough: kube-dns exists, so a missing Service is evidence (as in a real cluster)
    private const string KubeDns = """
        apiVersion: v1
        kind: Service
        metadata: {name: kube-dns, namespace: kube-system}
        spec:
          selector: {k8s-app: kube-dns}
          ports: [{name: dns, port: 53, protocol: UDP}]
        """;

    private static readonly Dictionary<string, string> Settings = new() { ["Webhook:GracePeriod"] = "1s" };

    private static string SeedFile(int i) => File.ReadAllText(Directory.GetFiles(TestPaths.Seed, $"0{i}-*.yaml").Single());

    /// <summary>The walkthrough, file by file (gateway installed first), then the seed folder in one apply, lexical and
    /// reversed; each with the webhook's cache holding every earlier write when the next arrives (the case where order
    /// used to matter), and as kubectl sends them, without waiting.</summary>
    public static TheoryData<string, bool> Applies => new()
    {
        { "5|1|2|3|0|4", true },
        { "0,1,2,3,4,5", true },
        { "5,4,3,2,1,0", true },
        { "5|1|2|3|0|4", false },
        { "0,1,2,3,4,5", false },
        { "5,4,3,2,1,0", false },
    };

    [Theory]
    [MemberData(nameof(Applies))]
    public async Task Seed_AppliedInOnePass_EveryWriteAdmitted_ZeroFindings_NoEventAfterTheGracePeriod(string applies, bool cacheCaughtUp)
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(KubeDns), Settings);
        var chain = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        w.Api.Admission = chain;
        await w.WaitForServerStateAsync();

        foreach (var apply in applies.Split('|'))
        {
            var yaml = string.Join("\n---\n", apply.Split(',').Select(i => SeedFile(int.Parse(i, System.Globalization.CultureInfo.InvariantCulture))));
            var results = await w.Api.KubectlApplyAsync(yaml, cacheCaughtUp ? w.WaitForServerStateAsync : null);
            Assert.All(results, r => Assert.True(r.Allowed, r.ToString()));
        }

        await w.WaitForServerStateAsync();
        Assert.Empty(EgressEngine.Default.CheckAll(w.Webhook.Store.Current.Snapshot, RuleSettings.Default).Findings);
        Assert.Equal(8, chain.Writes.Count(x => x.Operation == "CREATE"));

        // past the grace period every awaited object has arrived: the re-checks find nothing to report
        var recheck = w.Webhook.Services.GetRequiredService<IncompleteChainRecheck>();
        Assert.True(await WebhookServer.EventuallyAsync(() => Task.FromResult(recheck.PendingCount == 0), TimeSpan.FromSeconds(10)), "re-checks still pending");
        if (cacheCaughtUp)
        {
            // out of dependency order some write was admitted on the promise of a later one, and the re-check found it kept
            var metrics = await w.Webhook.Client.GetStringAsync("/metrics");
            Assert.Matches(@"egress_webhook_chain_rechecks_total\{result=""complete""\} [1-9]", metrics);
        }

        Assert.Empty(w.Api.Events);
        Assert.DoesNotContain(AuditLines(w.Webhook), l => l.GetProperty("decision").GetString() == "incomplete");
    }

    [Fact]
    public async Task RoutingFile_InOneApply_MeshLegFirst_IsAdmittedWithAWarningNamingTheAwaitedLeg()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(KubeDns);
            api.Apply(string.Join("\n---\n", SeedFile(0), SeedFile(1), SeedFile(5)));
        }, Settings);
        var chain = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        w.Api.Admission = chain;
        await w.WaitForServerStateAsync();

        var results = await w.Api.KubectlApplyAsync(SeedFile(2), w.WaitForServerStateAsync);

        Assert.All(results, r => Assert.True(r.Allowed, r.ToString()));
        var mesh = results.Single(r => r.Name == "mesh-to-egress-gateway");
        Assert.Contains(mesh.Warnings, x => x.StartsWith("EGW113 VirtualService default/mesh-to-egress-ga", StringComparison.Ordinal) &&
            x.Contains(": awaiting the gateway leg for edition.cnn.com; re-check in ", StringComparison.Ordinal));
        Assert.Empty(results.Single(r => r.Name == "egressgateway-to-external").Warnings);
    }

    [Theory]
    [InlineData("port: 443\n      sniHosts", "port: 8443\n      sniHosts", "EGW105")]
    [InlineData("  tls:\n  - match:\n    - port: 443\n      sniHosts:\n      - edition.cnn.com", "  http:\n  - match:\n    - port: 443", "EGW105")]
    public async Task BrokenGatewayLeg_WrongPortOrProtocol_IsStillRefused(string from, string to, string rule)
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(KubeDns);
            api.Apply(string.Join("\n---\n", SeedFile(0), SeedFile(1), SeedFile(5)));
        }, Settings);
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        await w.WaitForServerStateAsync();
        var routing = SeedFile(2);
        Assert.Contains(from, routing, StringComparison.Ordinal);

        var results = await w.Api.KubectlApplyAsync(routing.Replace(from, to, StringComparison.Ordinal), w.WaitForServerStateAsync);

        var leg = results.Single(r => r.Name == "egressgateway-to-external");
        Assert.False(leg.Allowed);
        Assert.Equal(403, leg.Code);
        Assert.Contains($"{rule} VirtualService default/egressgateway-to-external", leg.Message, StringComparison.Ordinal);
        Assert.Null(w.Api.Get("virtualservices", "default", "egressgateway-to-external"));
    }

    [Fact]
    public async Task MissingGatewayLeg_IsReportedAsAnEventOnTheMeshLeg_WithinTheGracePeriod()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(KubeDns), Settings);
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        await w.WaitForServerStateAsync();
        var routing = SeedFile(2);
        var withoutGatewayLeg = routing[..routing.LastIndexOf("---", StringComparison.Ordinal)];

        var results = await w.Api.KubectlApplyAsync(string.Join("\n---\n", SeedFile(0), SeedFile(1), SeedFile(5), withoutGatewayLeg), w.WaitForServerStateAsync);

        Assert.All(results, r => Assert.True(r.Allowed, r.ToString()));
        Assert.True(await WebhookServer.EventuallyAsync(() => Task.FromResult(w.Api.Events.Count > 0), TimeSpan.FromSeconds(10)), "no Event within the grace period");
        var ev = Assert.Single(w.Api.Events);
        Assert.Equal("EgressChainIncomplete", ev["reason"]!.GetValue<string>());
        Assert.Equal("Warning", ev["type"]!.GetValue<string>());
        Assert.Equal("VirtualService", ev["involvedObject"]!["kind"]!.GetValue<string>());
        Assert.Equal("mesh-to-egress-gateway", ev["involvedObject"]!["name"]!.GetValue<string>());
        Assert.Equal(w.Api.Get("virtualservices", "default", "mesh-to-egress-gateway")!["metadata"]!["uid"]!.GetValue<string>(),
            ev["involvedObject"]!["uid"]!.GetValue<string>());
        Assert.Contains("still awaiting the gateway leg for edition.cnn.com (EGW113", ev["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(await WebhookServer.EventuallyAsync(() => Task.FromResult(AuditLines(w.Webhook).Any(l =>
            l.GetProperty("webhook").GetString() == "recheck" && l.GetProperty("decision").GetString() == "incomplete")), TimeSpan.FromSeconds(5)));
        var metrics = await w.Webhook.Client.GetStringAsync("/metrics");
        Assert.Contains("egress_webhook_chain_incomplete_total{rule=\"EGW113\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generator_WritesThroughTheWebhooks_NoneRefusedOrWarned_AndAPortChangeIsOneApply()
    {
        var settings = new Dictionary<string, string>(Settings)
        {
            ["Webhook:Generator:Enabled"] = "true",
            ["Webhook:Generator:Identity"] = "pod-1",
            ["Webhook:Generator:LeaseNamespace"] = GeneratorHarness.LeaseNamespace,
            ["Webhook:Mutation:DefaultGateway"] = "istio-system/istio-egressgateway",
        };
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", KubeDns, SeedFile(0), SeedFile(5))), settings);
        var chain = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        w.Api.Admission = chain;
        await w.WaitForServerStateAsync();

        // an entry with nothing but a host and a port: /mutate defaults it, the generator routes it
        var entry = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: portchange, namespace: default}
            spec:
              hosts: [portchange.example.com]
              ports: [{number: 443, protocol: TLS}]
            """;
        Assert.All(await w.Api.KubectlApplyAsync(entry), r => Assert.True(r.Allowed, r.ToString()));
        await ClusterHarness.WaitUntilAsync(() => w.Api.Get("virtualservices", "default", "portchange-egress-mesh") is not null, "the generated mesh leg");

        var generated = chain.Writes.Where(x => x.Kind != "ServiceEntry").ToList();
        Assert.Equal(["Gateway portchange-egress", "DestinationRule portchange-egress", "VirtualService portchange-egress-tls", "VirtualService portchange-egress-mesh"],
            generated.Select(x => $"{x.Kind} {x.Name}"));
        Assert.All(generated, x => Assert.True(x.Allowed && x.Warnings.Count == 0, x.ToString()));

        // the port change: one apply, admitted; the routing follows (the -http leg replaces the -tls leg)
        var changed = await w.Api.KubectlApplyAsync(entry.Replace("{number: 443, protocol: TLS}", "{number: 80, name: http, protocol: HTTP}", StringComparison.Ordinal));
        Assert.True(changed.Single().Allowed, changed.Single().ToString());
        await ClusterHarness.WaitUntilAsync(() => w.Api.Get("virtualservices", "default", "portchange-egress-tls") is null &&
                                                  w.Api.Get("virtualservices", "default", "portchange-egress-http") is not null, "the routing of port 80");
        await w.WaitForServerStateAsync();

        Assert.All(chain.Writes, x => Assert.True(x.Allowed, x.ToString()));
        Assert.DoesNotContain(chain.Writes.Where(x => x.Kind != "ServiceEntry"), x => x.Warnings.Count > 0);
        Assert.DoesNotContain(EgressEngine.Default.CheckAll(w.Webhook.Store.Current.Snapshot, RuleSettings.Default).Findings, f => f.Severity == Severity.Error);
    }

    [Fact]
    public async Task SchemaStep_RunsAfterMutation_RefusesWhatIstiosCrdRefuses()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", KubeDns, SeedFile(0), SeedFile(5))),
            new Dictionary<string, string>(Settings) { ["Webhook:Mutation:DefaultGateway"] = "istio-system/istio-egressgateway" });
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        await w.WaitForServerStateAsync();
        const string entry = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: NAME, namespace: default, annotations: {ANNOTATION}}
            spec:
              hosts: [NAME.example.com]
              ports: [{number: 443, protocol: TLS}]
              resolution: DNS
            """;

        // opted in: /mutate names the port, so the schema (ports[].name required) admits it
        var named = await w.Api.KubectlApplyAsync(entry.Replace("NAME", "named", StringComparison.Ordinal).Replace("ANNOTATION", "a: b", StringComparison.Ordinal));
        // opted out: nobody names it, and the API server refuses it before the validating webhook
        var unnamed = await w.Api.KubectlApplyAsync(entry.Replace("NAME", "unnamed", StringComparison.Ordinal)
            .Replace("ANNOTATION", "egress.istio.io/routing: disabled", StringComparison.Ordinal));

        Assert.True(named.Single().Allowed, named.Single().ToString());
        Assert.Equal("tls-443", w.Api.Get("serviceentries", "default", "named")!["spec"]!["ports"]![0]!["name"]!.GetValue<string>());
        Assert.False(unnamed.Single().Allowed);
        Assert.Equal(422, unnamed.Single().Code);
        Assert.Contains("\"name\"", unnamed.Single().Message, StringComparison.Ordinal);
    }

    private static List<JsonElement> AuditLines(WebhookServer server) =>
        File.Exists(server.AuditFile)
            ? [.. File.ReadAllLines(server.AuditFile).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement)]
            : [];
}
