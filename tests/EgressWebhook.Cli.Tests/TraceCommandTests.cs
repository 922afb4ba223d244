using System.Text.Json;

namespace EgressWebhook.Cli.Tests;

public sealed class TraceCommandTests
{
    [Fact]
    public void Trace_SeedFiles_PrintsTheTreeAndExitsClean()
    {
        var (exit, output, err) = CliRunner.Run("trace", "--from", "default", "edition.cnn.com:443", Path.Combine(CliRunner.Shared, "seed"));

        Assert.Equal(0, exit);
        Assert.Equal("", err);
        Assert.StartsWith("default → edition.cnn.com:443\n", output, StringComparison.Ordinal);
        Assert.EndsWith("└─ external via default/istio-egressgateway: edition.cnn.com:443 leaves through default/istio-egressgateway\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_Json_HasTheContractFields()
    {
        var (exit, output, _) = CliRunner.Run("trace", "--from", "default", "edition.cnn.com", "-o", "json", Path.Combine(CliRunner.Shared, "seed"));

        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("external", doc.RootElement.GetProperty("end").GetString());
        Assert.Equal(443, doc.RootElement.GetProperty("port").GetInt32());
        Assert.Equal(7, doc.RootElement.GetProperty("hops").GetArrayLength());
    }

    [Fact]
    public void Trace_UnregisteredHostUnderRegistryOnly_ExitsOneWithBlackhole()
    {
        var (exit, output, _) = CliRunner.Run("trace", "--from", "default", "example.org:443", Path.Combine(CliRunner.Shared, "seed"));

        Assert.Equal(1, exit);
        Assert.Contains("└─ blackhole: traffic would go to BlackHoleCluster", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default", "passthrough: hidden by serviceEntryVisibility NAMESPACE")]
    [InlineData("istio-egress", "external via istio-egress/waypoint: through waypoint istio-egress/waypoint")]
    public void Trace_AmbientWalkthroughWithNamespaceVisibility_OnlyTheEntrysNamespaceUsesTheWaypoint(string from, string end)
    {
        // both arrive (exit 0, as any passthrough); only the entry's own namespace gets there through the waypoint
        var (exit, output, err) = CliRunner.Run("trace", "--from", from, "httpbin.org:80",
            CliRunner.Corpus("ambient/00-meshconfig-serviceentry-visibility.yaml"), CliRunner.Corpus("ambient/01-egress-waypoint-se-httpbin.yaml"));

        Assert.True(exit == 0, output + err);
        Assert.Contains("└─ " + end, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edition.cnn.com:0")]
    [InlineData("edition.cnn.com:99999")]
    [InlineData("edition.cnn.com:https")]
    [InlineData(":443")]
    [InlineData("*.cnn.com")]
    public void Trace_BadTarget_IsOneLineBadInput(string value)
    {
        var (exit, output, err) = CliRunner.Run("trace", "--from", "default", value, Path.Combine(CliRunner.Shared, "seed"));

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("kubectl-egress: ", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Trace_NeitherFilesNorKubeconfig_IsBadInput()
    {
        var (exit, _, err) = CliRunner.Run("trace", "--from", "default", "edition.cnn.com");

        Assert.Equal(2, exit);
        Assert.Equal("kubectl-egress: give manifest FILES or --kubeconfig K\n", err);
    }

    [Fact]
    public void Trace_MissingKubeconfig_IsBadInput()
    {
        var (exit, _, err) = CliRunner.Run("trace", "--from", "default", "edition.cnn.com", "--kubeconfig", "/nonexistent/kubeconfig");

        Assert.Equal(2, exit);
        Assert.Equal("kubectl-egress: /nonexistent/kubeconfig: no such file\n", err);
    }
}
