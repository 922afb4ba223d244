using System.Text.Json;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Istio;

/// <summary><see cref="SchemaLimits"/> against Istio's CRDs (<c>../shared/istio-crds</c>): every row is a
/// <c>maxItems</c> of every served version, and every <c>maxItems</c> of the kinds the table covers is a row or a field the
/// model does not read.</summary>
public sealed class SchemaLimitsTests
{
    // bounded lists of those kinds that the model does not read (the decoder skips them)
    private static readonly HashSet<string> NotRead =
    [
        "Gateway spec.servers[].tls.tlsCertificates",
        "Sidecar spec.ingress[].tls.credentialNames",
        "Sidecar spec.ingress[].tls.tlsCertificates",
        "AuthorizationPolicy spec.rules",
        "AuthorizationPolicy spec.rules[].from",
        "AuthorizationPolicy spec.rules[].from[].source.serviceAccounts",
        "AuthorizationPolicy spec.rules[].from[].source.notServiceAccounts",
    ];

    private static readonly string[] Kinds = ["ServiceEntry", "Gateway", "VirtualService", "DestinationRule", "Sidecar", "AuthorizationPolicy"];

    /// <summary>Every <c>maxItems</c> of <paramref name="file"/> for <see cref="Kinds"/>: kind and path → (limit, versions).</summary>
    private static Dictionary<string, (long Limit, List<string> Versions)> MaxItems(string file)
    {
        var found = new Dictionary<string, (long, List<string>)>(StringComparer.Ordinal);
        foreach (var doc in YamlJson.ParseDocuments(File.ReadAllText(Path.Combine(TestPaths.Shared, "istio-crds", file))))
        {
            var crd = doc.Json;
            if (!crd.TryGetProperty("kind", out var k) || k.GetString() != "CustomResourceDefinition")
            {
                continue;
            }

            var kind = crd.GetProperty("spec").GetProperty("names").GetProperty("kind").GetString()!;
            if (!Kinds.Contains(kind))
            {
                continue;
            }

            foreach (var version in crd.GetProperty("spec").GetProperty("versions").EnumerateArray())
            {
                Walk(version.GetProperty("schema").GetProperty("openAPIV3Schema"), "", (path, limit) =>
                {
                    var key = $"{kind} {path}";
                    if (!found.TryGetValue(key, out var entry))
                    {
                        found[key] = entry = (limit, []);
                    }

                    Assert.Equal(entry.Item1, limit);
                    entry.Item2.Add(version.GetProperty("name").GetString()!);
                });
            }
        }

        return found;
    }

    private static void Walk(JsonElement schema, string path, Action<string, long> found)
    {
        if (schema.TryGetProperty("maxItems", out var max))
        {
            found(path, max.GetInt64());
        }

        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var p in properties.EnumerateObject())
            {
                Walk(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", found);
            }
        }

        if (schema.TryGetProperty("items", out var items))
        {
            Walk(items, path + "[]", found);
        }
    }

    [Fact]
    public void EveryRow_IsAMaxItemsOfEveryServedVersion_OfIstio132()
    {
        var crd = MaxItems("crd-all.istio-1.32-dev.yaml");

        foreach (var limit in SchemaLimits.All)
        {
            var key = $"{limit.Kind} {limit.Path}";
            Assert.True(crd.TryGetValue(key, out var found), $"{key}: no maxItems in the CRD");
            Assert.Equal(found.Limit, limit.MaxItems);
            // security.istio.io has no v1alpha3
            string[] versions = limit.Kind == ResourceKind.AuthorizationPolicy ? ["v1", "v1beta1"] : ["v1", "v1alpha3", "v1beta1"];
            Assert.Equal(versions, found.Versions.Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [InlineData("crd-all.istio-1.32-dev.yaml")]
    [InlineData("crd-all.istio-1.24.yaml")]
    public void EveryMaxItemsOfTheKinds_IsARowOrAFieldTheModelDoesNotRead(string file)
    {
        var rows = SchemaLimits.All.ToDictionary(l => $"{l.Kind} {l.Path}", l => l.MaxItems, StringComparer.Ordinal);

        foreach (var (key, (limit, _)) in MaxItems(file))
        {
            Assert.True(rows.TryGetValue(key, out var row) ? row == limit : NotRead.Contains(key), $"{file}: {key} maxItems {limit}");
        }
    }

    [Fact]
    public void Istio124_HasEveryRowButTheGatewayOne_WithTheSameLimits()
    {
        var crd = MaxItems("crd-all.istio-1.24.yaml");

        foreach (var limit in SchemaLimits.All)
        {
            var key = $"{limit.Kind} {limit.Path}";
            Assert.Equal(key != "Gateway spec.servers[].tls.credentialNames", crd.ContainsKey(key));
            if (crd.TryGetValue(key, out var found))
            {
                Assert.Equal(found.Limit, limit.MaxItems);
            }
        }
    }
}
