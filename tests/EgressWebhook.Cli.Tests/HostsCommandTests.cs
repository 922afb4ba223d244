using System.Text.Json;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

/// <summary><c>kubectl-egress hosts</c>: external hosts by namespace, path and policy, as a table and as JSON.</summary>
public sealed class HostsCommandTests
{
    private static string Policies(string file) => Path.Combine(TestPaths.Repo, "examples", "policies", file);

    private static JsonElement[] Rows(string json) => [.. JsonDocument.Parse(json).RootElement.GetProperty("hosts").EnumerateArray()];

    [Fact]
    public void Hosts_Seed_TableShowsTheGatewayPathAndTheDirectOne()
    {
        var (exit, output, error) = CliRunner.Run("hosts", TestPaths.Seed);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal(["HOST", "FROM", "PATH", "POLICY"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["edition.cnn.com:443", "default", "via", "default/istio-egressgateway", "no", "policy"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["google.com:443", "default", "direct", "no", "policy"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("2 external hosts, 2 paths (0 broken, 0 reachable but forbidden by a policy).", lines[3]);
    }

    [Fact]
    public void Hosts_WithPolicies_JsonSaysWhichPolicyAllowsOrForbids_AndForbiddenExitsOne()
    {
        var denied = File.ReadAllText(Path.Combine(TestPaths.Repo, "examples", "policies", "denied", "team-a-other-host.yaml"));

        var (exit, output, _) = CliRunner.RunWithInput(denied, "hosts", TestPaths.Seed, "-", Policies("allow-list.yaml"), Policies("no-wildcards.yaml"), "-o", "json", "--forbidden");

        Assert.Equal(1, exit);
        var rows = Rows(output);
        Assert.Equal(["api.other.com", "edition.cnn.com", "google.com"], rows.Select(r => r.GetProperty("host").GetString()));
        var other = rows[0];
        Assert.Equal("team-a", other.GetProperty("from").GetString());
        Assert.True(other.GetProperty("reachable").GetBoolean());
        Assert.Equal("direct", other.GetProperty("path").GetString());
        Assert.False(other.GetProperty("allowed").GetBoolean());
        // both policies select team-a: the platform-wide one allows the host, the tenant's does not
        Assert.Equal(["no-wildcards:Deny:True", "team-a-allow-list:Deny:False"],
            other.GetProperty("policies").EnumerateArray().Select(p => $"{p.GetProperty("name").GetString()}:{p.GetProperty("action").GetString()}:{p.GetProperty("allows").GetBoolean()}"));
        var cnn = rows[1];
        Assert.Equal(["default/istio-egressgateway"], cnn.GetProperty("via").EnumerateArray().Select(v => v.GetString()));
        Assert.True(cnn.GetProperty("allowed").GetBoolean());
    }

    [Fact]
    public void Hosts_UnregisteredHostUnderAllowAny_IsPassthrough_AndUnderRegistryOnlyIsBroken()
    {
        const string route = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: httpbin, namespace: shop}
            spec:
              hosts: [httpbin.org]
              http:
              - route:
                - destination: {host: httpbin.org, port: {number: 80}}
            """;

        var open = CliRunner.RunWithInput(route, "hosts", "-", "--outbound-policy", "ALLOW_ANY", "-o", "json");
        var closed = CliRunner.RunWithInput(route, "hosts", "-", "--outbound-policy", "REGISTRY_ONLY", "-o", "json");

        var row = Assert.Single(Rows(open.Out));
        Assert.Equal("passthrough", row.GetProperty("path").GetString());
        Assert.True(row.GetProperty("reachable").GetBoolean());
        var broken = Assert.Single(Rows(closed.Out));
        Assert.Equal("blackhole", broken.GetProperty("path").GetString());
        Assert.False(broken.GetProperty("reachable").GetBoolean());
    }

    [Fact]
    public void Hosts_NoInput_IsOneLineAndExitTwo()
    {
        var (exit, output, error) = CliRunner.Run("hosts");

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal("kubectl-egress: give manifest FILES or --kubeconfig K\n", error);
    }

    [Fact]
    public async Task Hosts_Kubeconfig_ReadsTheClustersPoliciesToo()
    {
        await using var api = await EgressWebhook.Server.Tests.Fakes.FakeKubernetesApiServer.StartAsync();
        foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal))
        {
            api.Apply(File.ReadAllText(file));
        }

        api.Apply(File.ReadAllText(Path.Combine(TestPaths.Repo, "examples", "policies", "denied", "team-a-other-host.yaml")));
        api.Apply(File.ReadAllText(Policies("allow-list.yaml")));
        var kubeconfig = await EgressWebhook.Server.Tests.Fakes.FakeKubeconfig.WriteAsync(api.Url);
        try
        {
            var (exit, output, error) = CliRunner.Run("hosts", "--kubeconfig", kubeconfig, "-o", "json");

            Assert.True(exit == 0, error);
            var rows = Rows(output);
            Assert.Equal(["api.other.com", "edition.cnn.com", "google.com"], rows.Select(r => r.GetProperty("host").GetString()));
            Assert.Equal("team-a-allow-list", Assert.Single(rows[0].GetProperty("policies").EnumerateArray()).GetProperty("name").GetString());
            Assert.False(rows[0].GetProperty("allowed").GetBoolean());
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    /// <summary>team-a declares api.example.com on 443 and 8080 and the wildcard *.example.org on 443.</summary>
    private const string TeamA = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: team-a}
        spec:
          hosts: [api.example.com]
          ports:
          - {number: 443, name: tls, protocol: TLS}
          - {number: 8080, name: http, protocol: HTTP}
          resolution: DNS
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: wild, namespace: team-a}
        spec:
          hosts: ["*.example.org"]
          ports:
          - {number: 443, name: tls, protocol: TLS}
          resolution: NONE
        """;

    [Fact]
    public void Hosts_EveryPortOfAHost_HasItsOwnRowPathAndVerdict_AndWildcardsAreListedUntraced()
    {
        var (exit, output, error) = CliRunner.RunWithInput(TeamA, "hosts", TestPaths.Seed, "-", Policies("allow-list.yaml"), Policies("no-wildcards.yaml"), "-o", "json");

        Assert.True(exit == 0, error);
        var rows = Rows(output);
        Assert.Equal(["*.example.org:443:team-a", "api.example.com:443:team-a", "api.example.com:8080:team-a", "edition.cnn.com:443:default", "google.com:443:default"],
            rows.Select(r => $"{r.GetProperty("host").GetString()}:{r.GetProperty("port").GetInt32()}:{r.GetProperty("from").GetString()}"));
        string Verdicts(JsonElement row) => string.Join(" ", row.GetProperty("policies").EnumerateArray()
            .Select(p => $"{p.GetProperty("name").GetString()}:{p.GetProperty("allows").GetBoolean()}"));

        // the wildcard: listed, not traced, forbidden by both (no-wildcards forbids it, the allow list does not cover it)
        var wild = rows[0];
        Assert.True(wild.GetProperty("wildcard").GetBoolean());
        Assert.Equal("wildcard (not traced)", wild.GetProperty("path").GetString());
        Assert.Empty(wild.GetProperty("via").EnumerateArray());
        Assert.True(wild.GetProperty("reachable").GetBoolean());
        Assert.False(wild.GetProperty("allowed").GetBoolean());
        Assert.Equal("no-wildcards:False team-a-allow-list:False", Verdicts(wild));

        // one host, two ports: 443 allowed by the allow list, 8080 not
        Assert.False(rows[1].GetProperty("wildcard").GetBoolean());
        Assert.Equal("direct", rows[1].GetProperty("path").GetString());
        Assert.Equal("no-wildcards:True team-a-allow-list:True", Verdicts(rows[1]));
        Assert.Equal("direct", rows[2].GetProperty("path").GetString());
        Assert.Equal("no-wildcards:True team-a-allow-list:False", Verdicts(rows[2]));
        Assert.Equal(["default/istio-egressgateway"], rows[3].GetProperty("via").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public void Hosts_PortsAndWildcards_Table()
    {
        var (exit, output, _) = CliRunner.RunWithInput(TeamA, "hosts", TestPaths.Seed, "-", Policies("allow-list.yaml"), Policies("no-wildcards.yaml"), "--forbidden");

        Assert.Equal(1, exit);
        var lines = output.TrimEnd('\n').Split('\n').Select(l => string.Join(" ", l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToArray();
        Assert.Equal(
        [
            "HOST FROM PATH POLICY",
            "*.example.org:443 team-a wildcard (not traced) forbidden by no-wildcards (Deny), team-a-allow-list (Deny)",
            "api.example.com:443 team-a direct allowed by no-wildcards, team-a-allow-list",
            "api.example.com:8080 team-a direct forbidden by team-a-allow-list (Deny)",
            "edition.cnn.com:443 default via default/istio-egressgateway allowed by no-wildcards",
            "google.com:443 default direct allowed by no-wildcards",
            "4 external hosts, 5 paths (0 broken, 2 reachable but forbidden by a policy, 1 of wildcard hosts, not traced).",
        ], lines);
    }

    [Fact]
    public void Hosts_WildcardListedByThePolicy_IsAllowed_AndAMeshRouteForAnUnregisteredWildcardIsBlackholed()
    {
        const string allowed = """
            apiVersion: egress.webhook.dev/v1alpha1
            kind: EgressPolicy
            metadata: {name: org-wildcard}
            spec:
              action: Deny
              wildcards: {forbid: true, allowed: ["*.example.org"]}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: any-net, namespace: shop}
            spec:
              hosts: ["*.example.net"]
              http:
              - route:
                - destination: {host: "*.example.net"}
            """;

        var (exit, output, error) = CliRunner.RunWithInput(TeamA + "\n---\n" + allowed, "hosts", "-", "--outbound-policy", "REGISTRY_ONLY", "-o", "json");

        Assert.True(exit == 0, error);
        var rows = Rows(output).Where(r => r.GetProperty("wildcard").GetBoolean()).ToArray();
        Assert.Equal(["*.example.net", "*.example.org"], rows.Select(r => r.GetProperty("host").GetString()));
        var net = rows[0];
        Assert.Equal("shop", net.GetProperty("from").GetString());
        Assert.Equal("blackhole", net.GetProperty("end").GetString());
        Assert.Equal("wildcard (not traced, blackhole)", net.GetProperty("path").GetString());
        Assert.False(net.GetProperty("reachable").GetBoolean());
        Assert.False(net.GetProperty("allowed").GetBoolean());
        var org = rows[1];
        Assert.Equal("external", org.GetProperty("end").GetString());
        Assert.True(org.GetProperty("allowed").GetBoolean());
    }

    [Fact]
    public void Hosts_ServiceEntryVisibilityNamespace_RouteFromAnotherNamespaceIsBroken_AndWithoutApplyToSidecarsItIsNot()
    {
        // Istio 1.31 serviceEntryVisibility NAMESPACE with applyToSidecars: team-b's entry is hidden from default,
        // whose mesh route for the host then ends in the BlackHoleCluster (REGISTRY_ONLY)
        var input = File.ReadAllText(Path.Combine(TestPaths.Cases, "egw101-serviceentry-visibility-namespace-denied", "input.yaml"));

        var hidden = Rows(CliRunner.RunWithInput(input, "hosts", "-", "-o", "json").Out);
        var sidecarsIgnoreIt = Rows(CliRunner.RunWithInput(input.Replace("applyToSidecars: true", "applyToSidecars: false", StringComparison.Ordinal), "hosts", "-", "-o", "json").Out);

        string Paths(JsonElement[] rows) => string.Join(", ", rows.Select(r => $"{r.GetProperty("from").GetString()}={r.GetProperty("path").GetString()}"));
        Assert.Equal("default=blackhole, team-b=direct", Paths(hidden));
        Assert.Equal("default=direct, team-b=direct", Paths(sidecarsIgnoreIt));
    }
}
