using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Benchmarks;

/// <summary>AdmissionReview bodies for the load test: updates of the gateway legs of a generated cluster, one in
/// ten with its match port moved to 8443 (denied by EGW105), the rest unchanged (allowed).</summary>
public static class ReviewBodies
{
    public static IEnumerable<string> For(int objects)
    {
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        var step = Math.Max(1, namespaces / 100);
        for (var i = 0; i < namespaces; i += step)
        {
            var leg = VirtualServiceOf(i, "egress-to-external");
            var denied = i / step % 10 == 9;
            if (denied)
            {
                leg["spec"]!["tls"]![0]!["match"]![0]!["port"] = 8443;
            }

            var review = UpdateReview(i, "egress-to-external", leg);
            var request = review["request"]!.AsObject();
            request["userInfo"] = new JsonObject { ["username"] = "load-test", ["groups"] = new JsonArray("system:authenticated") };
            request["dryRun"] = false;
            yield return review.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        }
    }

    /// <summary>The VirtualService <paramref name="name"/> of the generated namespace team-<paramref name="i"/> (or of
    /// <paramref name="yaml"/>), as JSON.</summary>
    public static JsonNode VirtualServiceOf(int i, string name, string? yaml = null)
    {
        var sb = new System.Text.StringBuilder();
        ClusterGenerator.Namespace(sb, i);
        return YamlJson.ParseDocuments(yaml ?? sb.ToString())
            .Select(d => JsonNode.Parse(d.Json.GetRawText())!)
            .Single(n => n["kind"]!.GetValue<string>() == "VirtualService" && n["metadata"]!["name"]!.GetValue<string>() == name);
    }

    /// <summary>An <c>admission.k8s.io/v1</c> UPDATE review of <paramref name="obj"/> in namespace team-<paramref name="i"/>,
    /// the old object the same.</summary>
    public static JsonObject UpdateReview(int i, string name, JsonNode obj) => new()
    {
        ["apiVersion"] = "admission.k8s.io/v1",
        ["kind"] = "AdmissionReview",
        ["request"] = new JsonObject
        {
            ["uid"] = Guid.NewGuid().ToString(),
            ["kind"] = new JsonObject { ["group"] = "networking.istio.io", ["version"] = "v1", ["kind"] = "VirtualService" },
            ["resource"] = new JsonObject { ["group"] = "networking.istio.io", ["version"] = "v1", ["resource"] = "virtualservices" },
            ["namespace"] = string.Create(CultureInfo.InvariantCulture, $"team-{i}"),
            ["name"] = name,
            ["operation"] = "UPDATE",
            ["object"] = obj,
            ["oldObject"] = obj.DeepClone(),
        },
    };
}
