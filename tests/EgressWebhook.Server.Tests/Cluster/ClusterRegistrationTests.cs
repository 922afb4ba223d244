using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Tests.Cluster;

public sealed class ClusterRegistrationTests
{
    [Fact]
    public async Task AddClusterSnapshotSource_WithKubeconfig_SyncsThroughItsCredentials()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(ClusterYaml.Cluster);
        var kubeconfig = await FakeKubeconfig.WriteAsync(server.Url);
        try
        {
            using var host = BuildHost(new()
            {
                ["Webhook:Cluster:Kubeconfig"] = kubeconfig,
                ["Webhook:Cluster:WhenNotSynced"] = "Allow",
                ["Webhook:Cluster:DebounceMilliseconds"] = "10",
            });
            await host.StartAsync();
            var store = host.Services.GetRequiredService<SnapshotStore>();
            await ClusterHarness.WaitUntilAsync(() => store.IsReady, "ready");

            var health = host.Services.GetRequiredService<ICacheHealth>();
            Assert.True(health.IsSynced);
            Assert.Equal(NotSyncedBehavior.Allow, health.WhenNotSynced);
            Assert.IsType<ClusterFreshReadSource>(host.Services.GetRequiredService<IFreshReadSource>());
            Assert.Equal("Bearer test-token", server.LastAuthorization);
            Assert.Equal(server.Expected(), store.Current.Snapshot.Objects.Select(o => (o.Key, o.Metadata.ResourceVersion)).ToHashSet());
            await host.StopAsync();
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    [Theory]
    [InlineData("Webhook:Cluster:ResyncMinutes", "-1", "ResyncMinutes")]
    [InlineData("Webhook:Cluster:MinBackoffSeconds", "0", "MinBackoffSeconds")]
    [InlineData("Webhook:Cluster:MeshNamespace", " ", "MeshNamespace")]
    [InlineData("Webhook:Cluster:RediscoverSeconds", "-5", "RediscoverSeconds")]
    [InlineData("Webhook:Cluster:RediscoverSeconds", "1e12", "RediscoverSeconds")]
    [InlineData("Webhook:Cluster:RediscoverSeconds", "0.001", "RediscoverSeconds")]
    public async Task AddClusterSnapshotSource_BadSetting_StopsTheHostWithTheKeyNamed(string key, string value, string named)
    {
        using var host = BuildHost(new() { ["Webhook:Cluster:Kubeconfig"] = "/nonexistent", [key] = value });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterOptions_Defaults_AreValid()
    {
        Assert.True(new ClusterOptionsValidator().Validate(null, new ClusterOptions()).Succeeded);
        Assert.Equal(NotSyncedBehavior.Deny, new ClusterOptions().WhenNotSynced);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        // the cluster source alone, through the webhook's builder (it selects the source from the validated Webhook:Source)
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Webhook:Source"] = "Cluster", ["Webhook:AuditLog"] = "off" });
        builder.Services.AddSingleton(Prometheus.Metrics.NewCustomRegistry());
        builder.Services.AddEgressWebhook(builder.Configuration).AddClusterSource();
        return builder.Build();
    }
}
