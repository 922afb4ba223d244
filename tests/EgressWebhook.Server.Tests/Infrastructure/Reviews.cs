using System.Text.Json;
using System.Text.Json.Nodes;

namespace EgressWebhook.Server.Tests.Infrastructure;

/// <summary>AdmissionReview bodies as the API server sends them.</summary>
public static class Reviews
{
    public const string V1 = "admission.k8s.io/v1";
    public const string V1Beta1 = "admission.k8s.io/v1beta1";

    /// <summary>A review of <paramref name="obj"/> (CREATE/UPDATE) or <paramref name="old"/> (DELETE).</summary>
    public static string Create(string operation, JsonNode? obj, JsonNode? old = null, string apiVersion = V1, string? uid = null,
        bool dryRun = false, string? requestNamespace = null)
    {
        var subject = obj ?? old ?? throw new ArgumentException("an object is needed");
        var (group, version) = SplitApiVersion(subject["apiVersion"]?.GetValue<string>() ?? "");
        var kind = subject["kind"]?.GetValue<string>() ?? "";
        var ns = requestNamespace ?? subject["metadata"]?["namespace"]?.GetValue<string>() ?? (kind == "Namespace" ? null : "default");
        var request = new JsonObject
        {
            ["uid"] = uid ?? Guid.NewGuid().ToString(),
            ["kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
            ["resource"] = new JsonObject { ["group"] = group, ["version"] = version, ["resource"] = kind.ToLowerInvariant() + "s" },
            ["requestKind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
            ["name"] = subject["metadata"]?["name"]?.GetValue<string>(),
            ["namespace"] = ns,
            ["operation"] = operation,
            ["userInfo"] = new JsonObject { ["username"] = "tester", ["groups"] = new JsonArray("system:authenticated", "team-a") },
            ["object"] = obj?.DeepClone(),
            ["oldObject"] = old?.DeepClone(),
            ["dryRun"] = dryRun,
        };
        return new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = "AdmissionReview", ["request"] = request }.ToJsonString();
    }

    public static JsonNode Node(JsonElement element) => JsonNode.Parse(element.GetRawText())!;

    /// <summary>A VirtualService with the given annotations (drives <see cref="AnnotationRule"/>).</summary>
    public static JsonNode VirtualService(string name, params (string Key, string Value)[] annotations)
    {
        var meta = new JsonObject { ["name"] = name, ["namespace"] = "default" };
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
            ["kind"] = "VirtualService",
            ["metadata"] = meta,
            // google.com has a ServiceEntry in the seed: the VirtualService is clean under the catalogue, only AnnotationRule speaks
            ["spec"] = new JsonObject { ["hosts"] = new JsonArray("google.com") },
        };
    }

    private static (string Group, string Version) SplitApiVersion(string apiVersion)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }
}
