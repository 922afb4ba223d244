using System.Text.Json;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Cli.Tests;

public sealed class AuditCommandTests
{
    private static string SeedDir => Path.Combine(CliRunner.Shared, "seed");

    private static string[] SeedWithoutGatewayLeg()
    {
        // the seed's files, the routing file without its gateway leg
        var dir = Path.Combine(Path.GetTempPath(), $"egress-audit-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(SeedDir, "*.yaml"))
        {
            var text = File.ReadAllText(file);
            var cut = text.IndexOf("name: egressgateway-to-external", StringComparison.Ordinal);
            if (cut > 0)
            {
                text = text[..text.LastIndexOf("---", cut, StringComparison.Ordinal)];
            }

            File.WriteAllText(Path.Combine(dir, Path.GetFileName(file)), text);
        }

        return [dir];
    }

    [Fact]
    public void Audit_Seed_IsCleanInEveryFormat()
    {
        Assert.Equal(0, CliRunner.Run("audit", SeedDir).Exit);
        var (exit, output, _) = CliRunner.Run("audit", "-o", "yaml", SeedDir);
        Assert.Equal(0, exit);
        Assert.Equal("", output);
    }

    [Fact]
    public void Audit_Yaml_IsAPolicyReportPerNamespace()
    {
        var input = SeedWithoutGatewayLeg();
        try
        {
            var (exit, output, err) = CliRunner.Run(["audit", "-o", "yaml", .. input]);

            Assert.Equal(1, exit);
            Assert.Equal("", err);
            var doc = Assert.Single(YamlJson.ParseDocuments(output)).Json;
            Assert.Equal("wgpolicyk8s.io/v1alpha2", doc.GetProperty("apiVersion").GetString());
            Assert.Equal("PolicyReport", doc.GetProperty("kind").GetString());
            Assert.Equal("default", doc.GetProperty("metadata").GetProperty("namespace").GetString());
            Assert.True(doc.GetProperty("summary").GetProperty("fail").GetInt32() >= 1);
            Assert.Contains(doc.GetProperty("results").EnumerateArray(), r => r.GetProperty("policy").GetString() == "EGW113");
        }
        finally
        {
            Directory.Delete(input[0], recursive: true);
        }
    }

    [Fact]
    public void Audit_Json_IsTheCheckReport()
    {
        var input = SeedWithoutGatewayLeg();
        try
        {
            var (exit, output, _) = CliRunner.Run(["audit", "-o", "json", .. input]);

            Assert.Equal(1, exit);
            using var doc = JsonDocument.Parse(output);
            Assert.Contains(doc.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("rule").GetString() == "EGW113");
        }
        finally
        {
            Directory.Delete(input[0], recursive: true);
        }
    }

    [Fact]
    public void Audit_FilesAndKubeconfig_IsBadInput()
    {
        var (exit, _, err) = CliRunner.Run("audit", SeedDir, "--kubeconfig", "k");

        Assert.Equal(2, exit);
        Assert.Equal("kubectl-egress: give manifest FILES or --kubeconfig K, not both\n", err);
    }

    [Fact]
    public async Task Audit_Kubeconfig_ReportsTheClusterAsTheFilesWouldBe()
    {
        var input = SeedWithoutGatewayLeg();
        await using var api = await EgressWebhook.Server.Tests.Fakes.FakeKubernetesApiServer.StartAsync();
        foreach (var file in Directory.GetFiles(input[0], "*.yaml").Order(StringComparer.Ordinal))
        {
            api.Apply(File.ReadAllText(file));
        }

        var kubeconfig = await EgressWebhook.Server.Tests.Fakes.FakeKubeconfig.WriteAsync(api.Url);
        try
        {
            var fromFiles = CliRunner.Run(["audit", "-o", "yaml", .. input]);
            var (exit, output, error) = CliRunner.Run("audit", "-o", "yaml", "--kubeconfig", kubeconfig);

            Assert.Equal((1, ""), (exit, error));
            Assert.Contains("EGW113", output, StringComparison.Ordinal);
            Assert.Equal(fromFiles.Out, output);
            // read-only: the audit from a laptop writes nothing to the cluster
            Assert.Empty(api.AllWrites());
        }
        finally
        {
            File.Delete(kubeconfig);
            Directory.Delete(input[0], recursive: true);
        }
    }
}
