using System.Net;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Generation;

/// <summary>The validating endpoint refuses writes by the webhook's own ServiceAccount (Webhook:Generator:ServiceAccount)
/// that are not the routing the generator plans for an opted-in ServiceEntry; the reconciler's own output passes.</summary>
public sealed class GeneratorGuardTests
{
    private const string Generator = "system:serviceaccount:egress-webhook:egress-webhook";

    [Fact]
    public async Task GeneratorAccount_OwnRoutingPasses_ALookalikeIsRefused_OtherUsersUnaffected()
    {
        var seed = Directory.GetFiles(TestPaths.Seed, "*.yaml").SelectMany(f => ManifestReader.Read(File.ReadAllText(f))).ToList();
        var service = seed.OfType<Service>().Single();
        var cnn = seed.OfType<ServiceEntry>().Single(se => se.Name == "cnn");
        var entry = cnn with
        {
            Metadata = cnn.Metadata with { Name = "news", Uid = "uid-news", Annotations = new Dictionary<string, string> { [RoutingAnnotations.Gateway] = "istio-system/istio-egressgateway" } },
        };
        var apply = RoutingReconciler.Reconcile(SnapshotView.Of(EgressSnapshot.Create([service, entry])), MutationPolicy.Default).Apply;
        Assert.NotEmpty(apply);

        // the manifest writer leaves server-owned fields out; a live cluster's entry has its uid
        var entryJson = ManifestWriter.ToJson(entry);
        entryJson["metadata"]!["uid"] = "uid-news";
        await using var server = await WebhookServer.StartAsync(
            new Dictionary<string, string> { ["Webhook:Generator:ServiceAccount"] = "egress-webhook/egress-webhook" },
            stateFiles: new Dictionary<string, string> { ["state.yaml"] = ManifestWriter.ToYaml([ManifestWriter.ToJson(service), entryJson]) });

        foreach (var o in apply)
        {
            var own = await server.PostAsync(Review("CREATE", Generator, ManifestWriter.ToJson(o)));
            Assert.True(!(own.StatusMessage ?? "").Contains("egress routing generator", StringComparison.Ordinal), own.StatusMessage);
        }

        var lookalike = ManifestWriter.ToJson(apply.OfType<VirtualService>().First());
        lookalike["spec"]!["hosts"] = new JsonArray("bank.example.com");
        var refused = await server.PostAsync(Review("CREATE", Generator, lookalike));
        Assert.Equal(HttpStatusCode.OK, refused.Status);
        Assert.False(refused.Allowed);
        Assert.Equal(403, refused.StatusCode);
        Assert.StartsWith($"{Generator} is the egress routing generator and may change only the routing it generates: ", refused.StatusMessage, StringComparison.Ordinal);
        Assert.Contains("spec differs from the routing planned for ServiceEntry default/news", refused.StatusMessage, StringComparison.Ordinal);

        var byJane = await server.PostAsync(Review("CREATE", "jane", lookalike));
        Assert.DoesNotContain("egress routing generator", byJane.StatusMessage ?? "", StringComparison.Ordinal);
    }

    /// <summary>guard.egress.istio.io sends the account's writes in kube-system and the webhook's own namespace too:
    /// there the namespace is exempt from the rules, but not from the guard.</summary>
    [Fact]
    public async Task GeneratorAccount_InAnExemptNamespace_IsStillRefused_OtherUsersThereAreExempt()
    {
        var seed = string.Join("\n---\n", Directory.GetFiles(TestPaths.Seed, "*.yaml").Select(File.ReadAllText));
        await using var server = await WebhookServer.StartAsync(
            new Dictionary<string, string> { ["Webhook:Generator:ServiceAccount"] = "egress-webhook/egress-webhook", ["Webhook:ExemptNamespaces:0"] = "kube-system" },
            stateFiles: new Dictionary<string, string> { ["state.yaml"] = seed });
        var vs = new JsonObject
        {
            ["apiVersion"] = "networking.istio.io/v1",
            ["kind"] = "VirtualService",
            ["metadata"] = new JsonObject { ["name"] = "steal", ["namespace"] = "kube-system" },
            ["spec"] = new JsonObject { ["hosts"] = new JsonArray("bank.example.com"), ["http"] = new JsonArray(new JsonObject { ["route"] = new JsonArray(new JsonObject { ["destination"] = new JsonObject { ["host"] = "evil.example.com" } }) }) },
        };

        var refused = await server.PostAsync(Review("CREATE", Generator, vs, "kube-system"));
        Assert.False(refused.Allowed);
        Assert.Equal(403, refused.StatusCode);
        Assert.StartsWith($"{Generator} is the egress routing generator", refused.StatusMessage, StringComparison.Ordinal);

        var byJane = await server.PostAsync(Review("CREATE", "jane", vs, "kube-system"));
        Assert.True(byJane.Allowed, byJane.StatusMessage);
    }

    private static string Review(string operation, string user, JsonObject obj, string? ns = null)
    {
        var review = JsonNode.Parse(Reviews.Create(operation, obj))!;
        review["request"]!["userInfo"] = new JsonObject { ["username"] = user };
        if (ns is not null)
        {
            review["request"]!["namespace"] = ns;
        }

        return review.ToJsonString();
    }
}
