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
            var sb = new System.Text.StringBuilder();
            ClusterGenerator.Namespace(sb, i);
            var leg = YamlJson.ParseDocuments(sb.ToString())
                .Select(d => JsonNode.Parse(d.Json.GetRawText())!)
                .Single(n => n["kind"]!.GetValue<string>() == "VirtualService" && n["metadata"]!["name"]!.GetValue<string>() == "egress-to-external");
            var denied = i / step % 10 == 9;
            if (denied)
            {
                leg["spec"]!["tls"]![0]!["match"]![0]!["port"] = 8443;
            }

            var review = new JsonObject
            {
                ["apiVersion"] = "admission.k8s.io/v1",
                ["kind"] = "AdmissionReview",
                ["request"] = new JsonObject
                {
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["kind"] = new JsonObject { ["group"] = "networking.istio.io", ["version"] = "v1", ["kind"] = "VirtualService" },
                    ["resource"] = new JsonObject { ["group"] = "networking.istio.io", ["version"] = "v1", ["resource"] = "virtualservices" },
                    ["namespace"] = string.Create(CultureInfo.InvariantCulture, $"team-{i}"),
                    ["name"] = "egress-to-external",
                    ["operation"] = "UPDATE",
                    ["userInfo"] = new JsonObject { ["username"] = "load-test", ["groups"] = new JsonArray("system:authenticated") },
                    ["object"] = leg,
                    ["oldObject"] = leg.DeepClone(),
                    ["dryRun"] = false,
                },
            };
            yield return review.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        }
    }
}
