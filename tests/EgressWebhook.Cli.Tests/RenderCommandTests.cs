using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Cli.Tests;

public sealed class RenderCommandTests
{
    private const string Gateway = "istio-system/istio-egressgateway";

    [Fact]
    public void Render_SeedCnnWithGatewayService_PrintsRoutingThatChecksClean()
    {
        var (exit, yaml, err) = CliRunner.Run("render", CliRunner.Seed("01-serviceentry-cnn.yaml"), CliRunner.Seed("05-egressgateway-service.yaml"), "--gateway", Gateway);

        Assert.Equal(0, exit);
        Assert.Equal("", err);
        Assert.Contains("kind: Gateway", yaml, StringComparison.Ordinal);
        Assert.Contains("name: cnn-egress-mesh", yaml, StringComparison.Ordinal);
        Assert.Contains("app.kubernetes.io/managed-by: egress-webhook", yaml, StringComparison.Ordinal);

        var input = string.Join("\n---\n", File.ReadAllText(CliRunner.Seed("01-serviceentry-cnn.yaml")),
            File.ReadAllText(CliRunner.Seed("05-egressgateway-service.yaml")), yaml);
        var check = CliRunner.RunWithInput(input, "check", "-", "--outbound-policy", "REGISTRY_ONLY", "--fail-on", "warning", "-o", "json");
        Assert.True(check.Exit == 0, check.Out + check.Err);
        Assert.Contains("\"objects\":6", check.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TwoEntriesForOneHost_RendersOne_Egw405ForTheOther_AndTheOutputChecksClean()
    {
        var cnn = File.ReadAllText(CliRunner.Seed("01-serviceentry-cnn.yaml"));
        var service = File.ReadAllText(CliRunner.Seed("05-egressgateway-service.yaml"));
        var input = string.Join("\n---\n", cnn, cnn.Replace("name: cnn", "name: cnn-copy", StringComparison.Ordinal), service);

        var (exit, yaml, err) = CliRunner.RunWithInput(input, "render", "-", "--gateway", Gateway);

        // the reconciler's conflict check: the first entry (namespace/name order) gets the routing, the other EGW405
        Assert.Equal(1, exit);
        Assert.Contains("warning: EGW405 ServiceEntry default/cnn-copy spec.hosts: ServiceEntry default/cnn gets the egress routing", err, StringComparison.Ordinal);
        Assert.Contains("name: cnn-egress-mesh", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("cnn-copy-egress", yaml, StringComparison.Ordinal);
        var check = CliRunner.RunWithInput(input + "\n---\n" + yaml, "check", "-", "--outbound-policy", "REGISTRY_ONLY", "-o", "json");
        Assert.True(check.Exit == 0, check.Out + check.Err);
    }

    [Fact]
    public void Render_FromStandardInput_ReadsIt()
    {
        var input = File.ReadAllText(CliRunner.Seed("04-serviceentry-google.yaml")) + "\n---\n" + File.ReadAllText(CliRunner.Seed("05-egressgateway-service.yaml"));

        var (exit, yaml, _) = CliRunner.RunWithInput(input, "render", "-", "--gateway", Gateway);

        Assert.Equal(0, exit);
        Assert.Contains("name: google-egress-tls", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SeedWithItsHandWrittenChain_RefusesCnnWithEgw405AndExits1()
    {
        var (exit, yaml, err) = CliRunner.Run("render", Path.Combine(CliRunner.Shared, "seed"), "--gateway", Gateway);

        Assert.Equal(1, exit);
        Assert.Contains("EGW405 ServiceEntry default/cnn", err, StringComparison.Ordinal);
        Assert.Contains("name: google-egress", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("name: cnn-egress", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_EntryWithoutDnsResolution_LeavesItOutWithEgw402()
    {
        var (exit, yaml, err) = CliRunner.Run("render", CliRunner.Corpus("samples/pypi.yaml"), CliRunner.Seed("05-egressgateway-service.yaml"), "--gateway", Gateway);

        Assert.Equal(1, exit);
        Assert.Equal("", yaml);
        Assert.Equal(3, err.Split('\n').Count(l => l.StartsWith("warning: EGW402 ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Render_AnnotatedEntryWithoutGatewayOption_IsOptedInByItsAnnotation()
    {
        var input = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: httpbin
              annotations:
                egress.istio.io/gateway: istio-system/istio-egressgateway
            spec:
              hosts: [httpbin.org]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
            ---
            """ + "\n" + File.ReadAllText(CliRunner.Seed("05-egressgateway-service.yaml"));

        var (exit, yaml, _) = CliRunner.RunWithInput(input, "render", "-");

        Assert.Equal(0, exit);
        Assert.Contains("name: httpbin-egress-http", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NothingOptedIn_PrintsNothingAndSaysSo()
    {
        var (exit, yaml, err) = CliRunner.Run("render", CliRunner.Seed("04-serviceentry-google.yaml"));

        Assert.Equal(0, exit);
        Assert.Equal("", yaml);
        Assert.Contains("no ServiceEntry asks for egress-gateway routing", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("istio-egressgateway")]
    [InlineData("istio-system/")]
    [InlineData("Istio-System/gw")]
    public void Render_BadGatewayOption_Exits2(string gateway)
    {
        var (exit, _, err) = CliRunner.Run("render", CliRunner.Seed("04-serviceentry-google.yaml"), "--gateway", gateway);

        Assert.Equal(2, exit);
        Assert.Contains("--gateway", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_MissingFile_Exits2()
    {
        var (exit, _, err) = CliRunner.Run("render", "/nonexistent/file.yaml", "--gateway", Gateway);

        Assert.Equal(2, exit);
        Assert.Contains("no such file or directory", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NoPath_Exits2()
    {
        var (exit, _, _) = CliRunner.Run("render");

        Assert.Equal(2, exit);
    }

    [Fact]
    public void Render_HostAPolicyForbids_GetsNoRouting_Egw411NamesThePolicy()
    {
        var policy = Path.Combine(TestPaths.Repo, "examples", "policies", "allow-list.yaml");
        var other = File.ReadAllText(CliRunner.Seed("04-serviceentry-google.yaml")).Replace("namespace: default", "namespace: team-a", StringComparison.Ordinal);
        var input = string.Join("\n---\n", other, File.ReadAllText(CliRunner.Seed("01-serviceentry-cnn.yaml")), File.ReadAllText(CliRunner.Seed("05-egressgateway-service.yaml")), File.ReadAllText(policy));

        var (exit, yaml, err) = CliRunner.RunWithInput(input, "render", "-", "--gateway", Gateway);

        // google.com in team-a is outside the policy's *.example.com: no routing; cnn in default is not selected: routed
        Assert.Equal(1, exit);
        Assert.Contains("warning: EGW411 ServiceEntry team-a/google spec.hosts[0]: google.com:443/TLS not allowed", err, StringComparison.Ordinal);
        Assert.Contains("EgressPolicy team-a-allow-list", err, StringComparison.Ordinal);
        Assert.DoesNotContain("google-egress", yaml, StringComparison.Ordinal);
        Assert.Contains("name: cnn-egress-mesh", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_AmbientEntryWithAnHttpRouteParent_NamesTheWaypointThatAppliesIt_NoEgw404()
    {
        var input = Path.Combine(TestPaths.TestData, "mutation", "ambient-gateway-api-parent-waypoint-label-defaulted", "input.yaml");

        var (exit, yaml, err) = CliRunner.Run("render", input);

        // nothing generated in ambient: the label binds the entry to the waypoint, which applies the route
        Assert.Equal(0, exit);
        Assert.Equal("", yaml);
        Assert.DoesNotContain("EGW404", err, StringComparison.Ordinal);
        Assert.Contains("ambient: ServiceEntry shop/httpbin routes through waypoint shop/egress-waypoint (which applies HTTPRoute shop/httpbin-timeout): " +
                        "set metadata.labels {istio.io/use-waypoint: egress-waypoint}", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SidecarGatewayApiEgressGateway_GetsNoSidecarModeRouting_Egw404ForBothRoutes()
    {
        var input = Path.Combine(TestPaths.TestData, "mutation", "egw404-sidecar-gateway-api-egress-gateway-warned", "input.yaml");

        var (exit, yaml, err) = CliRunner.Run("render", input);

        Assert.Equal(1, exit);
        Assert.Equal("", yaml);
        Assert.Contains("warning: EGW404 ServiceEntry default/cnn metadata.name: parentRef of HTTPRoute default/direct-cnn-to-egress-gateway", err, StringComparison.Ordinal);
        Assert.Contains("warning: EGW404 ServiceEntry default/cnn spec.hosts[0]: host edition.cnn.com is routed by HTTPRoute default/forward-cnn", err, StringComparison.Ordinal);
        Assert.DoesNotContain("ambient:", err, StringComparison.Ordinal);
    }
}
