using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Mutation;

namespace EgressWebhook.Core.Tests.Admission;

/// <summary><see cref="AdmissionHandler.Mutate"/>: the admission envelope around <see cref="ServiceEntryDefaulter"/>.</summary>
public sealed class AdmissionHandlerMutateTests
{
    private const string GatewayService = """
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-egressgateway
          namespace: istio-system
        spec:
          selector:
            istio: egressgateway
          ports:
          - name: http2
            port: 80
          - name: https
            port: 443
        """;

    private const string LabelledNamespace = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
          labels:
            egress.istio.io/gateway: istio-system.istio-egressgateway
        """;

    private static readonly EgressSnapshot State = EgressSnapshot.Create(ManifestReader.Read(GatewayService + "\n---\n" + LabelledNamespace));

    private static readonly AdmissionHandler Handler = AdmissionHandler.Default;

    [Fact]
    public void Mutate_AnnotatedEntry_PatchesTheDefaults_AndThePatchedEntryGivesNoPatch()
    {
        var entry = Entry("default", ("egress.istio.io/gateway", "istio-system/istio-egressgateway"));

        var decision = Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default);

        Assert.True(decision.Allowed);
        Assert.Equal(AdmissionOutcome.Patched, decision.Outcome);
        Assert.Equal("JSONPatch", decision.Response.PatchType);
        Assert.Equal("patched", decision.Response.AuditAnnotations!["decision"]);
        Assert.Null(decision.Response.Warnings);
        var patch = DecodePatch(decision.Response);
        Assert.Equal(["/spec/location", "/spec/resolution", "/spec/ports/0/name"], patch.Select(p => p!["path"]!.GetValue<string>()));
        Assert.Equal(decision.PatchOperations.Count, patch.Count);

        var patched = JsonPatchApplier.Apply(entry, patch);
        Assert.Equal("MESH_EXTERNAL", patched["spec"]!["location"]!.GetValue<string>());
        Assert.Equal("DNS", patched["spec"]!["resolution"]!.GetValue<string>());
        Assert.Equal("https-443", patched["spec"]!["ports"]![0]!["name"]!.GetValue<string>());
        var again = Handler.Mutate(Request("UPDATE", patched, entry), State, AdmissionSettings.Default);
        Assert.Equal(AdmissionOutcome.Allowed, again.Outcome);
        Assert.Null(again.Response.Patch);
        Assert.Null(again.Response.PatchType);
    }

    [Fact]
    public void Mutate_NamespaceLabelOptIn_WritesTheAnnotationDown()
    {
        var entry = Entry("shop");

        var decision = Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default);

        var patched = JsonPatchApplier.Apply(entry, DecodePatch(decision.Response));
        Assert.Equal("istio-system/istio-egressgateway", patched["metadata"]!["annotations"]!["egress.istio.io/gateway"]!.GetValue<string>());
        Assert.Null(Handler.Mutate(Request("CREATE", patched), State, AdmissionSettings.Default).Response.Patch);
    }

    [Fact]
    public void Mutate_ClusterDefaultGateway_FromSettings()
    {
        var entry = Entry("default");
        var settings = AdmissionSettings.Default with { Mutation = new MutationPolicy { DefaultGateway = "istio-system/istio-egressgateway" } };

        Assert.Null(Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default).Response.Patch);
        var decision = Handler.Mutate(Request("CREATE", entry), State, settings);

        var patched = JsonPatchApplier.Apply(entry, DecodePatch(decision.Response));
        Assert.Equal("istio-system/istio-egressgateway", patched["metadata"]!["annotations"]!["egress.istio.io/gateway"]!.GetValue<string>());
    }

    [Fact]
    public void Mutate_OptedOut_NoPatchEvenWithADefault()
    {
        var entry = Entry("shop", ("egress.istio.io/routing", "disabled"));
        var settings = AdmissionSettings.Default with { Mutation = new MutationPolicy { DefaultGateway = "istio-system/istio-egressgateway" } };

        var decision = Handler.Mutate(Request("CREATE", entry), State, settings);

        Assert.True(decision.Allowed);
        Assert.Equal(AdmissionOutcome.Allowed, decision.Outcome);
        Assert.Null(decision.Response.Patch);
        Assert.Empty(decision.PatchOperations);
    }

    [Fact]
    public void Mutate_WildcardHost_NoPatch_Egw401Warning()
    {
        var entry = Entry("default", ("egress.istio.io/gateway", "istio-system/istio-egressgateway"), host: "*.example.com");

        var decision = Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default);

        Assert.True(decision.Allowed);
        Assert.Equal(AdmissionOutcome.Warned, decision.Outcome);
        Assert.Null(decision.Response.Patch);
        // no patch for an entry left out, so its unnamed port stays unnamed: EGW410 says so (Istio's schema requires a name)
        Assert.Collection(decision.Response.Warnings!,
            w => Assert.StartsWith("EGW401 ServiceEntry default/api: ", w, StringComparison.Ordinal),
            w => Assert.Equal("EGW410 ServiceEntry default/api: port 443 unnamed, no patch (EGW401); Istio's schema requires a name: set one", w));
        Assert.Equal("EGW401,EGW410", decision.Response.AuditAnnotations!["rules"]);
        Assert.Equal("warned", decision.Response.AuditAnnotations["decision"]);
    }

    [Fact]
    public void Mutate_GeneratedPortNameTaken_NamesThePortWithASuffix()
    {
        var entry = Entry("default", ("egress.istio.io/gateway", "istio-system/istio-egressgateway"));
        entry["spec"]!["ports"] = new JsonArray(
            new JsonObject { ["number"] = 443, ["protocol"] = "HTTPS" },
            new JsonObject { ["number"] = 80, ["protocol"] = "HTTP", ["name"] = "https-443" });

        var decision = Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default);

        var names = DecodePatch(decision.Response).Where(p => p!["path"]!.GetValue<string>().StartsWith("/spec/ports/", StringComparison.Ordinal))
            .Select(p => (p!["path"]!.GetValue<string>(), p["value"]!.GetValue<string>()));
        Assert.Equal([("/spec/ports/0/name", "https-443-2")], names);
        Assert.Null(decision.Response.Warnings);
    }

    [Fact]
    public void Mutate_ManyNotices_WarningsKeepKubernetesLimits()
    {
        // one routed TLS port and 150 TCP ports: an EGW407 notice per TCP port, more than 4,096 characters in all
        var ports = new JsonArray { new JsonObject { ["number"] = 443, ["protocol"] = "TLS", ["name"] = "tls" } };
        for (var i = 0; i < 150; i++)
        {
            ports.Add(new JsonObject { ["number"] = 10000 + i, ["protocol"] = "TCP", ["name"] = $"tcp-{10000 + i}" });
        }

        var entry = Entry("default", ("egress.istio.io/gateway", "istio-system/istio-egressgateway"));
        entry["spec"]!["ports"] = ports;
        entry["spec"]!["location"] = "MESH_EXTERNAL";
        entry["spec"]!["resolution"] = "DNS";

        var decision = Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default);

        var warnings = decision.Response.Warnings!;
        Assert.Equal(150, decision.Findings.Count(f => f.Rule == RuleIds.RoutingSkippedPortProtocol));
        Assert.All(warnings, w => Assert.True(w.Length <= AdmissionHandler.MaxWarningLength, w));
        Assert.True(warnings.Sum(w => w.Length) <= AdmissionHandler.MaxWarningsTotal);
        Assert.Matches("^… and [0-9]+ more egress warnings not shown$", warnings[^1]);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("CONNECT")]
    public void Mutate_OtherOperations_AllowedWithoutPatch(string operation)
    {
        var entry = Entry("default", ("egress.istio.io/gateway", "istio-system/istio-egressgateway"));

        var decision = Handler.Mutate(Request(operation, operation == "DELETE" ? null : entry, entry), State, AdmissionSettings.Default);

        Assert.True(decision.Allowed);
        Assert.Equal(AdmissionOutcome.Skipped, decision.Outcome);
        Assert.Null(decision.Response.Patch);
    }

    [Fact]
    public void Mutate_OtherKinds_AllowedWithoutPatch()
    {
        var vs = JsonNode.Parse("""{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"x","namespace":"default"},"spec":{"hosts":["a.example.com"]}}""")!;

        var decision = Handler.Mutate(Request("CREATE", vs), State, AdmissionSettings.Default);

        Assert.Equal(AdmissionOutcome.Skipped, decision.Outcome);
        Assert.Null(decision.Response.Patch);
    }

    [Fact]
    public void Mutate_ExemptNamespace_AllowedWithoutPatch()
    {
        var entry = Entry("shop");
        var settings = AdmissionSettings.Default with { ExemptNamespaces = new HashSet<string>(["shop"], StringComparer.Ordinal) };

        var decision = Handler.Mutate(Request("CREATE", entry), State, settings);

        Assert.Equal(AdmissionOutcome.Exempt, decision.Outcome);
        Assert.Null(decision.Response.Patch);
    }

    [Fact]
    public void Mutate_Undecodable_AllowedWithAWarningNamingTheField()
    {
        var entry = Entry("default", ("egress.istio.io/gateway", "istio-system/istio-egressgateway"));
        entry["spec"]!["ports"]![0]!["number"] = new JsonObject();

        var decision = Handler.Mutate(Request("CREATE", entry), State, AdmissionSettings.Default);

        Assert.True(decision.Allowed);
        Assert.Equal(AdmissionOutcome.Invalid, decision.Outcome);
        Assert.Null(decision.Response.Patch);
        Assert.Contains("object.spec.ports[0].number", Assert.Single(decision.Response.Warnings!), StringComparison.Ordinal);
        Assert.False(Handler.Validate(Request("CREATE", entry), State, AdmissionSettings.Default).Allowed);
    }

    [Fact]
    public void Mutate_Uid_IsEchoed()
    {
        var entry = Entry("shop");

        Assert.Equal("uid-7", Handler.Mutate(Request("CREATE", entry, uid: "uid-7"), State, AdmissionSettings.Default).Response.Uid);
        Assert.Equal("uid-8", Handler.Mutate(Request("DELETE", null, entry, uid: "uid-8"), State, AdmissionSettings.Default).Response.Uid);
    }

    [Fact]
    public void NotSynced_DenyOrAllow()
    {
        var request = Request("CREATE", Entry("shop"));

        var denied = AdmissionHandler.NotSynced(request, "the egress webhook cache has not synced yet (ServiceEntry); retry shortly", deny: true);
        var allowed = AdmissionHandler.NotSynced(request, "the egress webhook cache has not synced yet (ServiceEntry); retry shortly", deny: false);

        Assert.False(denied.Allowed);
        Assert.Equal(503, denied.Response.Status!.Code);
        Assert.Equal("ServiceUnavailable", denied.Response.Status.Reason);
        Assert.Contains("retry", denied.Response.Status.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', denied.Response.Status.Message!);
        Assert.Equal("unsynced", denied.Response.AuditAnnotations!["decision"]);
        Assert.True(allowed.Allowed);
        Assert.Contains("retry", Assert.Single(allowed.Response.Warnings!), StringComparison.Ordinal);
        Assert.Equal(AdmissionOutcome.Unsynced, allowed.Outcome);
    }

    internal static JsonNode Entry(string ns, params (string Key, string Value)[] annotations) => Entry(ns, annotations, "api.example.com");

    internal static JsonNode Entry(string ns, (string Key, string Value) annotation, string host) => Entry(ns, [annotation], host);

    private static JsonNode Entry(string ns, (string Key, string Value)[] annotations, string host)
    {
        var meta = new JsonObject { ["name"] = "api", ["namespace"] = ns };
        if (annotations.Length > 0)
        {
            var a = new JsonObject();
            foreach (var (k, v) in annotations)
            {
                a[k] = v;
            }

            meta["annotations"] = a;
        }

        return new JsonObject
        {
            ["apiVersion"] = "networking.istio.io/v1",
            ["kind"] = "ServiceEntry",
            ["metadata"] = meta,
            ["spec"] = new JsonObject
            {
                ["hosts"] = new JsonArray(host),
                ["ports"] = new JsonArray(new JsonObject { ["number"] = 443, ["protocol"] = "HTTPS" }),
            },
        };
    }

    private static AdmissionRequest Request(string operation, JsonNode? obj, JsonNode? old = null, string uid = "u1")
    {
        var subject = obj ?? old!;
        var apiVersion = subject["apiVersion"]!.GetValue<string>();
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return new AdmissionRequest
        {
            Uid = uid,
            Kind = new GroupVersionKind { Group = apiVersion[..slash], Version = apiVersion[(slash + 1)..], Kind = subject["kind"]!.GetValue<string>() },
            Name = subject["metadata"]!["name"]!.GetValue<string>(),
            Namespace = subject["metadata"]!["namespace"]!.GetValue<string>(),
            Operation = operation,
            Object = obj is null ? null : JsonSerializer.SerializeToElement(obj, EgressJsonContext.Default.JsonNode),
            OldObject = old is null ? null : JsonSerializer.SerializeToElement(old, EgressJsonContext.Default.JsonNode),
        };
    }

    private static JsonArray DecodePatch(AdmissionResponse response)
    {
        Assert.Equal(AdmissionResponse.JsonPatch, response.PatchType);
        return JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(response.Patch!)))!.AsArray();
    }
}
