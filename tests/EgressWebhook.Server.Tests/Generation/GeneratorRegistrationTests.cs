using System.Text.Json.Nodes;
using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Tests.Cluster;
using EgressWebhook.Server.Tests.Fakes;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Tests.Generation;

public sealed class GeneratorRegistrationTests
{
    [Fact]
    public async Task Start_GeneratorWithoutTheClusterSource_FailsWithClearMessage()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:Generator:Enabled"] = "true" }));

        Assert.Contains("Webhook:Generator:Enabled=true requires Webhook:Source=Cluster (the generator writes to the live cluster), not 'State'",
            ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Webhook:Generator:RenewDeadlineSeconds", "20", "RenewDeadlineSeconds (20) < LeaseDurationSeconds (15)")]
    [InlineData("Webhook:Generator:ResyncSeconds", "0", "Webhook:Generator:ResyncSeconds 0 must be positive")]
    [InlineData("Webhook:Generator:LeaseName", " ", "Webhook:Generator:LeaseName must name a Lease")]
    public void Validator_BadSetting_NamesIt(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhook:Source"] = "Cluster",
            ["Webhook:Generator:Enabled"] = "true",
            [key] = value,
        }).Build();
        var options = new GeneratorOptions();
        configuration.GetSection(GeneratorOptions.SectionName).Bind(options);
        var validator = new GeneratorOptionsValidator(Microsoft.Extensions.Options.Options.Create(new EgressWebhook.Server.Options.WebhookOptions { Source = "Cluster" }));

        var result = validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_Defaults_AreValid_AndOffIsAlwaysValid()
    {
        var cluster = new GeneratorOptionsValidator(Microsoft.Extensions.Options.Options.Create(new EgressWebhook.Server.Options.WebhookOptions { Source = "Cluster" }));
        var state = new GeneratorOptionsValidator(Microsoft.Extensions.Options.Options.Create(new EgressWebhook.Server.Options.WebhookOptions()));

        Assert.True(cluster.Validate(null, new GeneratorOptions { Enabled = true }).Succeeded);
        Assert.True(state.Validate(null, new GeneratorOptions()).Succeeded);
        Assert.Equal("egress-webhook-generator", new GeneratorOptions().LeaseName);
    }

    /// <summary>The whole server as Program.cs builds it: cluster source through a kubeconfig, generator enabled, the
    /// cluster-wide default gateway from <c>Webhook:Mutation:DefaultGateway</c> opting in an entry without annotation.</summary>
    [Fact]
    public async Task Server_WithGeneratorEnabled_GeneratesRoutingForTheDefaultGateway()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.Apply(File.ReadAllText(Path.Combine(TestPaths.Seed, "05-egressgateway-service.yaml")));
        fake.Apply(ClusterYaml.Namespaces);
        fake.Apply(ClusterYaml.ServiceEntry("cnn", "edition.cnn.com"));
        var kubeconfig = await FakeKubeconfig.WriteAsync(fake.Url);
        var settings = new Dictionary<string, string>
        {
            ["Webhook:Source"] = "Cluster",
            ["Webhook:Cluster:Kubeconfig"] = kubeconfig,
            ["Webhook:Generator:Enabled"] = "true",
            ["Webhook:Generator:LeaseNamespace"] = "egress-webhook",
            ["Webhook:Generator:Identity"] = "pod-1",
            ["Webhook:Mutation:DefaultGateway"] = "istio-system/istio-egressgateway",
        };
        try
        {
            await using var server = await WebhookServer.StartAsync(settings);

            await ClusterHarness.WaitUntilAsync(() => fake.Get("gateways", "default", "cnn-egress") is not null, "the generated Gateway");
            Assert.Equal("pod-1", fake.LeaseHolder("egress-webhook", "egress-webhook-generator"));
            var gateway = fake.Get("gateways", "default", "cnn-egress")!;
            Assert.Equal("egress-webhook", gateway["metadata"]!["labels"]!["app.kubernetes.io/managed-by"]!.GetValue<string>());
            Assert.All(fake.AllWrites(), w => Assert.Equal("egress-webhook", w.FieldManager));
            Assert.Equal("Bearer test-token", fake.LastAuthorization);
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    /// <summary>On a cluster that serves networking.istio.io only at v1beta1 the generator writes at v1beta1 (URL, body
    /// and owner reference), and the objects it reads back at another version are not rewritten.</summary>
    [Fact]
    public async Task ClusterServingV1beta1_RoutingAppliedAtThatVersion_AndNotRewritten()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.IstioVersions = ["v1beta1"];
        fake.Apply(File.ReadAllText(Path.Combine(TestPaths.Seed, "05-egressgateway-service.yaml")));
        fake.Apply(ClusterYaml.Namespaces);
        fake.Apply(ClusterYaml.ServiceEntry("cnn", "edition.cnn.com"));
        await using var replica = await GeneratorHarness.StartAsync(fake, "replica-a", "istio-system/istio-egressgateway");

        await ClusterHarness.WaitUntilAsync(() => fake.Get("virtualservices", "default", "cnn-egress-tls") is not null, "the routing");
        await replica.WaitConvergedAsync();

        Assert.Equal(4, fake.AllWrites().Count(w => w.Verb == "apply"));
        var owner = fake.Get("gateways", "default", "cnn-egress")!["metadata"]!["ownerReferences"]![0]!;
        Assert.Equal("networking.istio.io/v1beta1", owner["apiVersion"]!.GetValue<string>());
        Assert.Equal("networking.istio.io/v1beta1", JsonNode.Parse(RoutingGenerator.Manifest(
            replica.Cluster.Store.Current.Snapshot.Objects.Single(o => o.Name == "cnn-egress" && o.KindName == "Gateway"),
            "networking.istio.io/v1beta1", "networking.istio.io/v1beta1"))!["apiVersion"]!.GetValue<string>());
    }
}
