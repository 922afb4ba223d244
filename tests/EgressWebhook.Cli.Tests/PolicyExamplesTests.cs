using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

/// <summary>examples/policies/ checked against the seed with <c>kubectl-egress check --policy</c>: the seed passes each
/// policy, and the manifest in examples/policies/denied/ that the README shows is refused with the policy's rule.</summary>
public sealed class PolicyExamplesTests
{
    private static string Examples => Path.Combine(TestPaths.Repo, "examples", "policies");

    public static TheoryData<string, string, string> Denials => new()
    {
        { "allow-list.yaml", "team-a-other-host.yaml", "EGW301" },
        { "no-wildcards.yaml", "wildcard-entry.yaml", "EGW303" },
        { "registry-only-guard.yaml", "sidecar-allow-any.yaml", "EGW305" },
        { "waypoint-path.yaml", "team-w-unbound-entry.yaml", "EGW302" },
    };

    private static JsonElement[] Findings(string json) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty("findings").EnumerateArray()];

    [Theory]
    [MemberData(nameof(Denials))]
    public void Check_SeedWithExamplePolicy_IsClean(string policy, string denied, string rule)
    {
        _ = (denied, rule);
        var (exit, output, error) = CliRunner.Run("check", TestPaths.Seed, "--policy", Path.Combine(Examples, policy), "-o", "json");

        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Empty(Findings(output));
    }

    [Theory]
    [MemberData(nameof(Denials))]
    public void Check_SeedPlusDeniedExample_IsRefusedByThePolicy(string policy, string denied, string rule)
    {
        var (exit, output, _) = CliRunner.Run("check", TestPaths.Seed, Path.Combine(Examples, "denied", denied), "--policy", Path.Combine(Examples, policy), "-o", "json");

        Assert.Equal(1, exit);
        var name = ManifestReader.Read(File.ReadAllText(Path.Combine(Examples, policy))).Single().Name;
        var finding = Assert.Single(Findings(output), f => f.GetProperty("rule").GetString() == rule);
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        Assert.EndsWith($"EgressPolicy {name}" + (rule == "EGW301" ? "" : ")"), finding.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(finding.GetProperty("related").EnumerateArray(), r => r.GetProperty("kind").GetString() == "EgressPolicy" && r.GetProperty("name").GetString() == name);
    }

    [Fact]
    public void Check_AllowList_AllowsItsHostsButRequiresTheGateway()
    {
        var entry = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: example-api, namespace: team-a}
            spec:
              hosts: [api.example.com]
              ports: [{number: 443, name: tls, protocol: TLS}]
              resolution: DNS
            """;

        var (exit, output, _) = CliRunner.RunWithInput(entry, "check", TestPaths.Seed, "-", "--policy", Path.Combine(Examples, "allow-list.yaml"), "-o", "json");

        Assert.Equal(1, exit);
        // the host is allowed (no EGW301); it is not routed through istio-system/istio-egressgateway (EGW302)
        Assert.Equal(["EGW302"], Findings(output).Select(f => f.GetProperty("rule").GetString()).Distinct());
    }

    [Fact]
    public void Check_AllowList_DoesNotSelectOtherNamespaces()
    {
        var text = File.ReadAllText(Path.Combine(Examples, "denied", "team-a-other-host.yaml")).Replace("namespace: team-a", "namespace: team-b", StringComparison.Ordinal);

        var (exit, output, _) = CliRunner.RunWithInput(text, "check", TestPaths.Seed, "-", "--policy", Path.Combine(Examples, "allow-list.yaml"), "-o", "json");

        Assert.Equal(0, exit);
        Assert.DoesNotContain(Findings(output), f => f.GetProperty("rule").GetString()!.StartsWith("EGW3", StringComparison.Ordinal));
    }

    [Fact]
    public void ExamplePolicies_SatisfyTheCrdSchemaAndCel()
    {
        var crd = IstioCrdSchemas.LoadFile(Path.Combine(TestPaths.Repo, "deploy", "crds", "egresspolicy.yaml"), "egress.webhook.dev");
        var files = Directory.GetFiles(Examples, "*.yaml");
        Assert.Equal(4, files.Length);
        foreach (var file in files)
        {
            var doc = Assert.Single(YamlJson.ParseDocuments(File.ReadAllText(file)));
            var obj = JsonNode.Parse(doc.Json.GetRawText())!.AsObject();
            Assert.Equal("EgressPolicy", obj["kind"]!.GetValue<string>());
            Assert.Empty(crd.Validate(obj));
        }
    }

    [Fact]
    public void CrdSchema_RefusesABadGlob()
    {
        var crd = IstioCrdSchemas.LoadFile(Path.Combine(TestPaths.Repo, "deploy", "crds", "egresspolicy.yaml"), "egress.webhook.dev");
        var obj = JsonNode.Parse("""{"apiVersion":"egress.webhook.dev/v1alpha1","kind":"EgressPolicy","metadata":{"name":"x"},"spec":{"allow":[{"hosts":["api.*.com"]}],"wildcards":{"allowed":["*.a.com"]}}}""")!.AsObject();

        var errors = crd.Validate(obj);

        Assert.Contains(errors, e => e.Contains("/spec/allow/0/hosts/0", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("wildcards listed as allowed need forbid true", StringComparison.Ordinal));
    }

    [Fact]
    public void CrdSchema_RefusesGatewayAndWaypointTogether_AndAWaypointWithoutName()
    {
        var crd = IstioCrdSchemas.LoadFile(Path.Combine(TestPaths.Repo, "deploy", "crds", "egresspolicy.yaml"), "egress.webhook.dev");
        var both = JsonNode.Parse("""{"apiVersion":"egress.webhook.dev/v1alpha1","kind":"EgressPolicy","metadata":{"name":"x"},"spec":{"requiredGateway":"istio-system/istio-egressgateway","requiredWaypoint":{"namespace":"istio-egress","name":"egress-waypoint"}}}""")!.AsObject();
        var nameless = JsonNode.Parse("""{"apiVersion":"egress.webhook.dev/v1alpha1","kind":"EgressPolicy","metadata":{"name":"x"},"spec":{"requiredWaypoint":{"namespace":"istio-egress"}}}""")!.AsObject();
        var one = JsonNode.Parse("""{"apiVersion":"egress.webhook.dev/v1alpha1","kind":"EgressPolicy","metadata":{"name":"x"},"spec":{"requiredWaypoint":{"namespace":"istio-egress","name":"egress-waypoint"}}}""")!.AsObject();

        Assert.Contains(crd.Validate(both), e => e.Contains("requiredGateway and requiredWaypoint are exclusive", StringComparison.Ordinal));
        Assert.NotEmpty(crd.Validate(nameless));
        Assert.Empty(crd.Validate(one));
    }

    [Fact]
    public void Check_WaypointPath_EntryBoundToTheWaypointIsClean()
    {
        var text = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: egress-waypoint, namespace: istio-egress}
            spec:
              gatewayClassName: istio-waypoint
              listeners:
              - {name: mesh, port: 15008, protocol: HBONE, allowedRoutes: {namespaces: {from: All}}}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: payments-api
              namespace: team-w
              labels: {istio.io/use-waypoint: egress-waypoint, istio.io/use-waypoint-namespace: istio-egress}
            spec:
              hosts: [api.payments.example]
              ports: [{number: 443, name: tls, protocol: TLS}]
              resolution: DNS
            """;

        var (exit, output, _) = CliRunner.RunWithInput(text, "check", TestPaths.Seed, "-", "--policy", Path.Combine(Examples, "waypoint-path.yaml"), "-o", "json");

        Assert.Equal(0, exit);
        Assert.DoesNotContain(Findings(output), f => f.GetProperty("rule").GetString()!.StartsWith("EGW3", StringComparison.Ordinal));
    }
}
