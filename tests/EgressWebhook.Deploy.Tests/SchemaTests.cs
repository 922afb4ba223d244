using System.Reflection;
using System.Text.Json;
using EgressWebhook.Deploy.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace EgressWebhook.Deploy.Tests;

/// <summary>Every built-in object of every overlay round-trips through the typed Kubernetes models without
/// losing a field: a misspelt or misplaced field (which the API server rejects or drops) fails here.</summary>
public sealed class SchemaTests
{
    private static readonly Dictionary<(string ApiVersion, string Kind), Type> Models = typeof(V1Pod).Assembly.GetTypes()
        .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(e => e.Entity is not null && e.Type.Namespace == "k8s.Models")
        .GroupBy(e => (ApiVersion(e.Entity!), e.Entity!.Kind))
        .ToDictionary(g => g.Key, g => g.First().Type);

    private static readonly MethodInfo Deserialize = typeof(KubernetesJson).GetMethods()
        .Single(m => m.Name == nameof(KubernetesJson.Deserialize) && m.IsGenericMethod && m.GetParameters()[0].ParameterType == typeof(string));

    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void BuiltInObjects_HaveOnlyFieldsOfTheirApi(string overlay)
    {
        var checkedObjects = 0;
        foreach (var o in Rendered.Overlay(overlay).Objects)
        {
            if (o.Group == "cert-manager.io")
            {
                continue; // a CRD: no model here (CertManagerTests checks the fields it uses)
            }

            var type = Models.GetValueOrDefault((o.ApiVersion, o.Kind)) ?? throw new Xunit.Sdk.XunitException($"{o}: {o.ApiVersion} {o.Kind} is not a Kubernetes API");
            var text = o.Json.GetRawText();
            var model = Deserialize.MakeGenericMethod(type).Invoke(null, [text, null]);
            using var roundTrip = JsonDocument.Parse(KubernetesJson.Serialize(model));

            var lost = Missing(o.Json, roundTrip.RootElement, "").ToArray();
            Assert.True(lost.Length == 0, $"{o}: not fields of {o.ApiVersion} {o.Kind}: {string.Join(", ", lost)}");
            checkedObjects++;
        }

        Assert.True(checkedObjects >= 10);
    }

    [Fact]
    public void SchemaCheck_CatchesAMisspeltField()
    {
        var yaml = File.ReadAllText(RepoPaths.Of("deploy/base/deployment.yaml")).Replace("readOnlyRootFilesystem", "readOnlyRootFileSystem", StringComparison.Ordinal);
        var json = EgressWebhook.Core.Serialization.YamlJson.ParseDocuments(yaml)[0].Json;

        var model = KubernetesJson.Deserialize<V1Deployment>(json.GetRawText());
        using var roundTrip = JsonDocument.Parse(KubernetesJson.Serialize(model));

        Assert.Equal(["spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"], Missing(json, roundTrip.RootElement, ""));
    }

    /// <summary>The PolicyReport CRDs of components/policy-reports: fields of apiextensions.k8s.io/v1 only, and a
    /// structural schema (every node typed, as the API server requires of a v1 CRD).</summary>
    [Fact]
    public void PolicyReportCrds_HaveOnlyFieldsOfTheirApi_AndAStructuralSchema()
    {
        var crds = Rendered.Of(RepoPaths.Of("deploy/components/policy-reports")).Objects.ToList();

        Assert.Equal(2, crds.Count);
        foreach (var crd in crds)
        {
            var model = KubernetesJson.Deserialize<V1CustomResourceDefinition>(crd.Json.GetRawText());
            using var roundTrip = JsonDocument.Parse(KubernetesJson.Serialize(model));
            Assert.Equal([], Missing(crd.Json, roundTrip.RootElement, ""));
            var schema = Assert.Single(crd.Spec.Items("versions")).At("schema", "openAPIV3Schema")!.Value;
            Assert.Equal([], Untyped(schema, "openAPIV3Schema"));
        }
    }

    /// <summary>Schema nodes without a <c>type</c> (not structural).</summary>
    private static IEnumerable<string> Untyped(JsonElement schema, string path)
    {
        if (!schema.TryGetProperty("type", out _))
        {
            yield return path;
        }

        if (schema.TryGetProperty("properties", out var properties))
        {
            foreach (var p in properties.EnumerateObject())
            {
                foreach (var u in Untyped(p.Value, $"{path}.{p.Name}"))
                {
                    yield return u;
                }
            }
        }

        foreach (var key in new[] { "items", "additionalProperties" })
        {
            if (schema.TryGetProperty(key, out var child) && child.ValueKind == JsonValueKind.Object)
            {
                foreach (var u in Untyped(child, $"{path}.{key}"))
                {
                    yield return u;
                }
            }
        }
    }

    /// <summary>Paths present in <paramref name="original"/> but absent from <paramref name="roundTrip"/>.</summary>
    private static IEnumerable<string> Missing(JsonElement original, JsonElement roundTrip, string path)
    {
        switch (original.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in original.EnumerateObject())
                {
                    var child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (roundTrip.ValueKind != JsonValueKind.Object || !roundTrip.TryGetProperty(property.Name, out var other))
                    {
                        yield return child;
                        continue;
                    }

                    foreach (var missing in Missing(property.Value, other, child))
                    {
                        yield return missing;
                    }
                }

                break;
            case JsonValueKind.Array:
                var items = original.EnumerateArray().ToArray();
                var others = roundTrip.ValueKind == JsonValueKind.Array ? roundTrip.EnumerateArray().ToArray() : [];
                for (var i = 0; i < items.Length; i++)
                {
                    if (i >= others.Length)
                    {
                        yield return $"{path}[{i}]";
                        continue;
                    }

                    foreach (var missing in Missing(items[i], others[i], $"{path}[{i}]"))
                    {
                        yield return missing;
                    }
                }

                break;
        }
    }

    private static string ApiVersion(KubernetesEntityAttribute entity) =>
        string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
}
