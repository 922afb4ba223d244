using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Tests.Mutation;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Endpoints;

/// <summary><c>POST /mutate</c> over HTTPS: the patch is decoded and applied the way the API server does, and the
/// patched entry, reviewed again (reinvocation, or the next update), gets no patch.</summary>
public sealed class MutateEndpointTests
{
    private const string Gateway = "istio-system/istio-egressgateway";

    /// <summary>The seed (it has the egress gateway Service) plus a namespace opted in by label.</summary>
    private static Dictionary<string, string> State()
    {
        var files = Directory.GetFiles(TestPaths.Seed, "*.yaml").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        files["90-namespace-shop.yaml"] = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              labels:
                egress.istio.io/gateway: istio-system.istio-egressgateway
            """;
        return files;
    }

    public static TheoryData<string, string, string?> OptIns => new()
    {
        // case, namespace of the entry, annotation (null: none)
        { "annotation", "default", Gateway },
        { "namespace label", "shop", null },
        { "cluster default", "default", null },
    };

    [Theory]
    [MemberData(nameof(OptIns))]
    public async Task Mutate_OptedIn_PatchApplies_AndThePatchedEntryGetsNoPatch(string optIn, string ns, string? annotation)
    {
        var settings = optIn == "cluster default" ? new Dictionary<string, string> { ["Webhook:Mutation:DefaultGateway"] = Gateway } : null;
        await using var server = await WebhookServer.StartAsync(settings, stateFiles: State());
        var entry = Entry(ns, annotation is null ? [] : [("egress.istio.io/gateway", annotation)]);

        var first = await server.PostAsync(Reviews.Create("CREATE", entry, uid: "m-1"), "/mutate");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("m-1", first.Uid);
        Assert.True(first.Allowed);
        Assert.Equal("JSONPatch", first.Response.GetProperty("patchType").GetString());
        Assert.Equal("patched", first.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        Assert.Empty(first.Warnings);
        var patched = JsonPatchApplier.Apply(entry, Patch(first));
        Assert.Equal(Gateway, patched["metadata"]!["annotations"]!["egress.istio.io/gateway"]!.GetValue<string>());
        Assert.Equal("MESH_EXTERNAL", patched["spec"]!["location"]!.GetValue<string>());
        Assert.Equal("DNS", patched["spec"]!["resolution"]!.GetValue<string>());
        Assert.Equal(["https-443", "http-80"], patched["spec"]!["ports"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));

        var again = await server.PostAsync(Reviews.Create("UPDATE", patched, entry, uid: "m-2"), "/mutate");

        Assert.Equal("m-2", again.Uid);
        Assert.True(again.Allowed);
        Assert.False(again.Response.TryGetProperty("patch", out _));
        Assert.False(again.Response.TryGetProperty("patchType", out _));
        Assert.Equal("allowed", again.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Mutate_OptedOut_NoPatch()
    {
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:Mutation:DefaultGateway"] = Gateway }, stateFiles: State());

        var result = await server.PostAsync(Reviews.Create("CREATE", Entry("shop", [("egress.istio.io/routing", "disabled")])), "/mutate");

        Assert.True(result.Allowed);
        Assert.False(result.Response.TryGetProperty("patch", out _));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public async Task Mutate_WildcardHost_NoPatch_Egw401Warning()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: State());
        var entry = Entry("default", [("egress.istio.io/gateway", Gateway)], host: "*.example.com");

        var result = await server.PostAsync(Reviews.Create("CREATE", entry, uid: "w"), "/mutate");

        Assert.True(result.Allowed);
        Assert.Equal("w", result.Uid);
        Assert.False(result.Response.TryGetProperty("patch", out _));
        // the entry's two unnamed ports stay unnamed (no patch when routing is left out): EGW410 for each
        Assert.Equal(3, result.Warnings.Count);
        Assert.StartsWith("EGW401 ServiceEntry default/api: ", result.Warnings[0], StringComparison.Ordinal);
        Assert.All(result.Warnings.Skip(1), w => Assert.StartsWith("EGW410 ServiceEntry default/api: port ", w, StringComparison.Ordinal));
        Assert.All(result.Warnings, w => Assert.True(w.Length <= 120));
        Assert.Equal(["EGW401", "EGW410"], result.Rules);
        Assert.Equal("warned", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Mutate_V1beta1Review_AnsweredInV1beta1()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: State());

        var result = await server.PostAsync(Reviews.Create("CREATE", Entry("shop", []), apiVersion: Reviews.V1Beta1, uid: "b1"), "/mutate");

        Assert.Equal(Reviews.V1Beta1, result.Root.GetProperty("apiVersion").GetString());
        Assert.Equal("AdmissionReview", result.Root.GetProperty("kind").GetString());
        Assert.Equal("b1", result.Uid);
        Assert.NotEmpty(Patch(result));
    }

    [Fact]
    public async Task Mutate_UndecodableEntry_AllowedWithWarning_ValidateDeniesIt()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: State());
        var entry = Entry("shop", []);
        entry["spec"]!["ports"]![0]!["number"] = new JsonArray();
        var review = Reviews.Create("CREATE", entry);

        var mutated = await server.PostAsync(review, "/mutate");
        var validated = await server.PostAsync(review, "/validate");

        Assert.True(mutated.Allowed);
        Assert.False(mutated.Response.TryGetProperty("patch", out _));
        Assert.Contains("object.spec.ports[0].number", Assert.Single(mutated.Warnings), StringComparison.Ordinal);
        Assert.False(validated.Allowed);
        Assert.Equal(422, validated.StatusCode);
    }

    [Fact]
    public async Task Mutate_NoSnapshotYet_AllowedWithoutPatchWithWarning_WhileValidateAppliesTheFailureMode()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: new Dictionary<string, string> { ["broken.yaml"] = "kind: [unclosed" });
        var review = Reviews.Create("CREATE", Entry("default", [("egress.istio.io/gateway", Gateway)]));

        var mutated = await server.PostAsync(review, "/mutate");
        var validated = await server.PostAsync(review, "/validate");

        Assert.True(mutated.Allowed);
        Assert.False(mutated.Response.TryGetProperty("patch", out _));
        Assert.StartsWith("egress defaults skipped: no snapshot", Assert.Single(mutated.Warnings), StringComparison.Ordinal);
        Assert.Equal("failed", mutated.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        Assert.False(validated.Allowed);
        Assert.Equal(500, validated.StatusCode);
    }

    [Fact]
    public async Task Mutate_AuditLineAndMetrics()
    {
        var server = await WebhookServer.StartAsync(stateFiles: State());
        try
        {
            await server.PostAsync(Reviews.Create("CREATE", Entry("shop", []), uid: "a-1"), "/mutate");
            await server.PostAsync(Reviews.Create("CREATE", Entry("default", [("egress.istio.io/gateway", Gateway)], host: "*.example.com"), uid: "a-2"), "/mutate");

            var metrics = await server.Client.GetStringAsync("/metrics");
            Assert.Contains("egress_webhook_admission_requests_total{endpoint=\"mutate\",kind=\"ServiceEntry\",operation=\"CREATE\",decision=\"patched\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("egress_webhook_admission_requests_total{endpoint=\"mutate\",kind=\"ServiceEntry\",operation=\"CREATE\",decision=\"warned\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("egress_webhook_findings_total{rule=\"EGW401\",severity=\"warning\"} 1", metrics, StringComparison.Ordinal);
        }
        finally
        {
            await server.StopAsync();
        }

        var records = (await File.ReadAllLinesAsync(server.AuditFile)).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => r.GetProperty("uid").GetString()!);
        Assert.Equal("mutate", records["a-1"].GetProperty("webhook").GetString());
        Assert.Equal("patched", records["a-1"].GetProperty("decision").GetString());
        Assert.Equal(5, records["a-1"].GetProperty("patchOperations").GetInt32()); // annotation, location, resolution, two port names
        Assert.Equal("warned", records["a-2"].GetProperty("decision").GetString());
        Assert.Equal(["EGW401", "EGW410"], records["a-2"].GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
        Assert.False(records["a-2"].TryGetProperty("patchOperations", out _));
        await server.DisposeAsync();
    }

    private static JsonNode Entry(string ns, (string Key, string Value)[] annotations, string host = "api.example.com")
    {
        var meta = new JsonObject { ["name"] = "api", ["namespace"] = ns };
        if (annotations.Length > 0)
        {
            meta["annotations"] = new JsonObject(annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value)));
        }

        return new JsonObject
        {
            ["apiVersion"] = "networking.istio.io/v1",
            ["kind"] = "ServiceEntry",
            ["metadata"] = meta,
            ["spec"] = new JsonObject
            {
                ["hosts"] = new JsonArray(host),
                ["ports"] = new JsonArray(
                    new JsonObject { ["number"] = 443, ["protocol"] = "HTTPS" },
                    new JsonObject { ["number"] = 80, ["protocol"] = "HTTP" }),
            },
        };
    }

    /// <summary>The response's patch, base64-decoded.</summary>
    private static JsonArray Patch(AdmissionResult result) =>
        JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(result.Response.GetProperty("patch").GetString()!)))!.AsArray();
}
