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
}
