using System.Text;
using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Admission;

/// <summary>The inputs of issue 13 (tests/testdata/hostile): answered with the right outcome and a one-line reason,
/// never an exception, a 500 or a hang.</summary>
public sealed class HostileInputTests
{
    private static readonly EgressSnapshot Seed = EgressSnapshot.Create(Directory.EnumerateFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal)
        .SelectMany(f => ManifestReader.Read(File.ReadAllText(f))));

    private static string Hostile(string name) => Path.Combine(TestPaths.TestData, "hostile", name);

    private static AdmissionRequest Request(byte[] body) =>
        JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!.Request!;

    /// <summary>A generous bound, only so that a regression hangs no test run; speed is measured by the benchmarks.</summary>
    private static AdmissionDecision Decide(AdmissionRequest request, AdmissionSettings? settings = null, CancellationToken budget = default)
    {
        var task = Task.Run(() => AdmissionHandler.Default.Validate(request, Seed, settings ?? AdmissionSettings.Default, budget));
        Assert.True(task.Wait(TimeSpan.FromSeconds(30), CancellationToken.None), "the check hung");
        return task.Result;
    }

    [Fact]
    public void AliasBomb_IsRefusedWithItsLine_NotExpanded()
    {
        var yaml = File.ReadAllText(Hostile("alias-bomb.yaml"));
        Assert.Equal(441, Encoding.UTF8.GetByteCount(yaml));

        var ex = Assert.Throws<ManifestException>(() => YamlJson.ParseDocuments(yaml));

        Assert.Contains("aliases expanded", ex.Message, StringComparison.Ordinal);
        Assert.InRange(ex.Line, 2, 12);
        Assert.DoesNotContain('\n', ex.Describe());
    }

    [Fact]
    public void Aliases_WithinTheBound_StillExpand()
    {
        var docs = YamlJson.ParseDocuments("base: &p {number: 443, protocol: TLS}\nports: [*p, *p]\n");

        Assert.Equal("""{"base":{"number":443,"protocol":"TLS"},"ports":[{"number":443,"protocol":"TLS"},{"number":443,"protocol":"TLS"}]}""",
            docs[0].Json.GetRawText());
    }

    [Theory]
    [InlineData("a: *nowhere\n", "names no anchor")]
    [InlineData("a: &x [*x]\n", "names no anchor")]
    public void UndefinedOrSelfReferencingAlias_IsAManifestError(string yaml, string reason)
    {
        var ex = Assert.Throws<ManifestException>(() => YamlJson.ParseDocuments(yaml));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNesting_IsRefused_WithoutOverflowingTheStack()
    {
        var flow = new string('[', 200_000) + new string(']', 200_000);
        var block = string.Concat(Enumerable.Range(0, 100).Select(i => new string(' ', i * 2) + "k:\n"));

        Assert.Contains("nesting deeper than 64", Assert.Throws<ManifestException>(() => YamlJson.ParseDocuments(flow)).Message, StringComparison.Ordinal);
        Assert.Contains("nesting deeper than 64", Assert.Throws<ManifestException>(() => YamlJson.ParseDocuments(block)).Message, StringComparison.Ordinal);
        Assert.Single(YamlJson.ParseDocuments(string.Concat(Enumerable.Range(0, 64).Select(i => new string(' ', i * 2) + "k:\n"))));
    }

    [Fact]
    public void MeshConfigMapWithAliasBomb_IsDeniedAsAMeshConfigIstioCannotLoad_NamingDataMesh()
    {
        var decision = Decide(Request(File.ReadAllBytes(Hostile("mesh-alias-bomb.json"))));

        Assert.False(decision.Allowed);
        // refused by the YAML limits in milliseconds; Istio cannot load such a mesh config either (EGW117)
        Assert.Equal(403, decision.Response.Status!.Code);
        Assert.Equal(["EGW117"], decision.RuleIds);
        Assert.StartsWith("EGW117 MeshConfig istio (data.mesh): data.mesh is not YAML at line ", decision.Response.Status.Message!.Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public void MeshConfigMapDelete_WithNullDataMesh_IsAnsweredWithoutAnInternalError()
    {
        var decision = Decide(Request(File.ReadAllBytes(Hostile("mesh-delete-null-data-mesh.json"))));

        Assert.True(decision.Allowed);
        Assert.NotEqual(AdmissionOutcome.Failed, decision.Outcome);
    }

    [Theory]
    [InlineData("lone-surrogate.json")]
    [InlineData("bad-utf8.json")]
    public void BadTextInTheObject_Is422WithOneLine(string file)
    {
        var decision = Decide(Request(File.ReadAllBytes(Hostile(file))));

        Assert.False(decision.Allowed);
        Assert.Equal(422, decision.Response.Status!.Code);
        Assert.Contains("object.spec.hosts[0]", decision.Response.Status.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", decision.Response.Status.Message!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":null,"spec":null}""")]
    [InlineData("""{"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":null,"labels":null},"spec":{"hosts":[null],"ports":[null],"endpoints":[null],"exportTo":null}}""")]
    [InlineData("""{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"v"},"spec":{"hosts":null,"http":[null,{"match":[null],"route":[null,{"destination":null}]}],"tls":[{"match":[{"sniHosts":[null]}]}]}}""")]
    [InlineData("""{"apiVersion":"networking.istio.io/v1","kind":"Gateway","metadata":{"name":"g"},"spec":{"selector":null,"servers":[null,{"port":null,"hosts":[null]}]}}""")]
    [InlineData("""{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"d"},"spec":{"host":null,"subsets":[null,{"name":null,"labels":null}],"trafficPolicy":{"portLevelSettings":[null]}}}""")]
    [InlineData("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"istio"},"data":null}""")]
    [InlineData("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"istio"},"data":{"mesh":null}}""")]
    [InlineData("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"istio"},"data":{"mesh":"outboundTrafficPolicy: null\ndefaultConfig: ~\n"}}""")]
    [InlineData("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"selector":null,"ports":[null,{"port":null}]}}""")]
    public void NullFields_AreAnsweredWithoutAnInternalError(string obj)
    {
        foreach (var operation in new[] { "CREATE", "UPDATE", "DELETE" })
        {
            var kind = JsonDocument.Parse(obj).RootElement.GetProperty("kind").GetString();
            var body = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"" + operation +
                       "\",\"namespace\":\"team-1\",\"name\":\"x\",\"object\":" + obj + ",\"oldObject\":" + obj + "}}";
            var decision = Decide(Request(Encoding.UTF8.GetBytes(body)));

            Assert.True(decision.Outcome != AdmissionOutcome.Failed, $"{kind} {operation}: {decision.Response.Status?.Message}");
            Assert.NotEqual(500, decision.Response.Status?.Code);
            if (decision.Response.Status is { Code: not 403 } status)
            {
                Assert.DoesNotContain("\n", status.Message!, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>10,000 ServiceEntry hosts are more than Istio's CRD allows (256): refused with EGW210 alone, and with
    /// EGW210 off (CRDs without the limit) checked by every rule and allowed. A Gateway's server hosts have no limit.</summary>
    [Theory]
    [InlineData("se-10000-identical-hosts.json", true, false)]
    [InlineData("se-10000-identical-hosts.json", false, true)]
    [InlineData("gateway-8000-server-hosts.json", true, true)]
    public void LongLists_AreDecided(string file, bool schemaLimits, bool allowed)
    {
        var settings = schemaLimits
            ? AdmissionSettings.Default
            : AdmissionSettings.Default with { Policy = new() { Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = Enforcement.Off } } };

        var decision = Decide(Request(File.ReadAllBytes(Hostile(file))), settings);

        Assert.Equal(allowed, decision.Allowed);
        Assert.NotEqual(AdmissionOutcome.Failed, decision.Outcome);
        if (!allowed)
        {
            Assert.Equal([RuleIds.ListOverSchemaLimit], decision.RuleIds);
        }
    }

    [Theory]
    [InlineData(FailureMode.Deny, false)]
    [InlineData(FailureMode.Allow, true)]
    public void SpentBudget_StopsTheCheck_AndTheFailureModeAnswers(FailureMode mode, bool allowed)
    {
        using var spent = new CancellationTokenSource();
        spent.Cancel();

        var decision = Decide(Request(File.ReadAllBytes(Hostile("gateway-8000-server-hosts.json"))), AdmissionSettings.Default with { FailureMode = mode }, spent.Token);

        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(AdmissionOutcome.Failed, decision.Outcome);
        var line = allowed ? Assert.Single(decision.Response.Warnings!) : decision.Response.Status!.Message;
        Assert.Contains(AdmissionHandler.DeadlineSpent, line, StringComparison.Ordinal);
    }
}
