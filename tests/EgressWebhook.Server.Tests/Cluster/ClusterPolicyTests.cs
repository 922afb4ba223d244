using System.Diagnostics;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>EgressPolicies live: the running webhook watches them and a change decides the next admission, no restart.</summary>
public sealed class ClusterPolicyTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    private static string EntryReview(string host) =>
        Reviews.Create("CREATE", JsonNode.Parse(YamlJson.ParseDocuments(ClusterYaml.ServiceEntry("api", host)).Single().Json.GetRawText())!);

    /// <summary>Posts <paramref name="review"/> until <paramref name="done"/> holds, failing after <see cref="Within"/>.</summary>
    private static async Task<AdmissionResult> PostUntilAsync(ClusterWebhook w, string review, Func<AdmissionResult, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await w.Webhook.PostAsync(review);
            if (done(result))
            {
                return result;
            }

            if (clock.Elapsed > Within)
            {
                Assert.Fail($"{what}: not seen {Within.TotalSeconds:F0} s after the policy change (last answer: allowed={result.Allowed}, {result.StatusMessage})");
            }

            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Validate_PolicyCreatedChangedDeleted_EachChangeDecidesTheNextAdmissionWithoutRestart()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(ClusterYaml.Cluster));
        await w.WaitForServerStateAsync();
        Assert.Contains(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy && r.ApiVersion == "egress.webhook.dev/v1alpha1");
        var review = EntryReview("api.other.com");
        Assert.True((await w.Webhook.PostAsync(review)).Allowed, "no policy selects default yet");

        // created: Deny
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com"));
        var denied = await PostUntilAsync(w, review, r => !r.Allowed, "the new policy's denial");
        Assert.Equal(403, denied.StatusCode);
        Assert.Contains(RuleIds.PolicyHostNotAllowed, denied.Rules);
        Assert.Contains("EGW301 ServiceEntry default/api", denied.StatusMessage!, StringComparison.Ordinal);
        Assert.Contains("EgressPolicy allow-list", denied.StatusMessage!, StringComparison.Ordinal);
        Assert.True((await w.Webhook.PostAsync(EntryReview("api.example.com"))).Allowed, "a host the policy allows");

        // changed: Warn, the same host is now let through with a warning naming the policy
        w.Api.Apply(ClusterYaml.AllowListPolicy("Warn", "*.example.com"));
        var warned = await PostUntilAsync(w, review, r => r.Allowed, "the policy's change to Warn");
        Assert.Contains(RuleIds.PolicyHostNotAllowed, warned.Rules);
        Assert.Contains(warned.Warnings, m => m.Contains("EgressPolicy allow-list", StringComparison.Ordinal));

        // changed: the host is listed
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com", "api.other.com"));
        var listed = await PostUntilAsync(w, review, r => r.Allowed && !r.Rules.Contains(RuleIds.PolicyHostNotAllowed), "the host added to the policy");
        Assert.DoesNotContain(listed.Rules, r => r.StartsWith("EGW3", StringComparison.Ordinal));

        // narrowed again, then deleted
        w.Api.Apply(ClusterYaml.AllowListPolicy("Deny", "*.example.com"));
        await PostUntilAsync(w, review, r => !r.Allowed, "the narrowed policy's denial");
        Assert.True(w.Api.Delete("egresspolicies", "", "allow-list"));
        var gone = await PostUntilAsync(w, review, r => r.Allowed, "the policy's deletion");
        Assert.DoesNotContain(gone.Rules, r => r.StartsWith("EGW3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cache_WithoutTheEgressPolicyCrd_SyncsWithoutPolicies()
    {
        await using var w = await ClusterWebhook.StartAsync(api =>
        {
            api.Apply(string.Join("\n---\n", ClusterYaml.MeshRegistryOnly, ClusterYaml.Namespaces));
            api.ServeEgressPolicies = false;
        });
        await w.WaitForServerStateAsync();

        Assert.True(w.Source.IsSynced);
        Assert.DoesNotContain(w.Source.Resources, r => r.Kind == ResourceKind.EgressPolicy);
    }
}
