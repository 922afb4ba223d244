using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Mutation;

public sealed class ManifestWriterTests
{
    private static string Json(IEnumerable<EgressObject> objects) =>
        new JsonArray(objects.Select(o => (JsonNode)ManifestWriter.ToJson(o)).ToArray()).ToJsonString();

    [Fact]
    public void ToYaml_RenderedRouting_ReadsBackIdentically()
    {
        var seed = Seed.Objects();
        var entry = seed.OfType<ServiceEntry>().Single(se => se.Name == "cnn") is var cnn
            ? cnn with { Metadata = cnn.Metadata with { Uid = "u-1" } }
            : null!;
        var plan = RoutingPlanner.Plan(entry, new GatewayServiceRef("istio-system", "istio-egressgateway"),
            SnapshotView.Of(EgressSnapshot.Create([entry, .. seed.OfType<Service>()])));

        var yaml = ManifestWriter.ToYaml(plan.Objects);
        var back = ManifestReader.Read(yaml);

        Assert.Equal(plan.Objects.Select(o => o.Key), back.Select(o => o.Key));
        Assert.Equal(Json(plan.Objects), Json(back));
        Assert.Equal(yaml, ManifestWriter.ToYaml(back));
    }

    [Fact]
    public void ToYaml_Seed_ReadsBackIdentically()
    {
        var seed = Seed.Objects().Where(o => o is not MeshConfig).ToList();

        var back = ManifestReader.Read(ManifestWriter.ToYaml(seed));

        Assert.Equal(Json(seed), Json(back));
    }

    [Theory]
    [InlineData("*.wikipedia.org")]
    [InlineData("80")]
    [InlineData("true")]
    [InlineData("no")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("")]
    [InlineData("a: b")]
    [InlineData("x #y")]
    [InlineData("- item")]
    [InlineData("1e3")]
    [InlineData("0x1F")]
    [InlineData("'quoted'")]
    [InlineData("line\nbreak")]
    [InlineData("&anchor")]
    [InlineData("@at")]
    public void ToYaml_StringThatLooksLikeAnotherType_StaysAString(string value)
    {
        var svc = new Service
        {
            ApiVersion = "v1",
            Metadata = new ObjectMeta { Name = "s", Namespace = "default", Labels = new Dictionary<string, string> { ["k"] = value } },
            Spec = new ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = value }, Ports = [new ServicePort { Name = value, Port = 80 }] },
        };

        var back = (Service)Assert.Single(ManifestReader.Read(ManifestWriter.ToYaml([svc])));

        Assert.Equal(value, back.Metadata.Labels["k"]);
        Assert.Equal(value, back.Spec.Selector["app"]);
        Assert.Equal(value, back.Spec.Ports[0].Name);
    }

    [Fact]
    public void ToJson_OrdersTypeMetaFirstAndDropsServerFieldsAndEmptyValues()
    {
        var vs = new VirtualService
        {
            ApiVersion = "networking.istio.io/v1",
            Metadata = new ObjectMeta { Name = "v", Namespace = "default", Uid = "u", ResourceVersion = "7", Generation = 2 },
            Spec = new VirtualServiceSpec { Hosts = ["a.example.com"] },
        };

        var json = ManifestWriter.ToJson(vs);

        Assert.Equal(["apiVersion", "kind", "metadata", "spec"], json.Select(p => p.Key));
        Assert.Equal("""{"name":"v","namespace":"default"}""", json["metadata"]!.ToJsonString());
        Assert.Equal("""{"hosts":["a.example.com"]}""", json["spec"]!.ToJsonString());
    }
}
