using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Tests.Fakes;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>The real webhook host (<see cref="WebhookServer"/>, HTTPS on loopback) with <c>Webhook:Source=Cluster</c>,
/// reaching the in-process <see cref="FakeKubernetesApiServer"/> through a kubeconfig file, as a developer runs it
/// with <c>--source Cluster --kubeconfig FILE</c>.</summary>
internal sealed class ClusterWebhook : IAsyncDisposable
{
    private readonly string _kubeconfig;
    private bool _apiStopped;

    private ClusterWebhook(FakeKubernetesApiServer api, WebhookServer webhook, string kubeconfig)
    {
        Api = api;
        Webhook = webhook;
        _kubeconfig = kubeconfig;
    }

    public FakeKubernetesApiServer Api { get; }

    public WebhookServer Webhook { get; }

    /// <summary>The webhook's cache.</summary>
    internal ClusterSnapshotSource Source => Webhook.Services.GetRequiredService<ClusterSnapshotSource>();

    /// <summary>Starts the fake API server (arranged by <paramref name="arrange"/>) and the webhook pointed at it.</summary>
    /// <param name="arrange">Objects and failures of the API server before the webhook starts.</param>
    /// <param name="settings">More configuration keys (<c>Webhook:Cluster:WhenNotSynced</c>).</param>
    /// <param name="time">One clock for the API server and the webhook (a fake one that the test advances); the system's by default.</param>
    public static async Task<ClusterWebhook> StartAsync(Action<FakeKubernetesApiServer>? arrange = null, IDictionary<string, string>? settings = null,
        TimeProvider? time = null)
    {
        var api = await FakeKubernetesApiServer.StartAsync(time);
        arrange?.Invoke(api);
        var kubeconfig = await FakeKubeconfig.WriteAsync(api.Url);
        var config = new Dictionary<string, string>
        {
            ["Webhook:Source"] = "Cluster",
            ["Webhook:Cluster:Kubeconfig"] = kubeconfig,
            ["Webhook:Cluster:ResyncMinutes"] = "0",
            ["Webhook:Cluster:DebounceMilliseconds"] = "20",
            ["Webhook:Cluster:MinBackoffSeconds"] = "0.05",
            ["Webhook:Cluster:MaxBackoffSeconds"] = "0.3",
            // the background audit (on by default in cluster mode) has tests of its own; off here unless a test turns it on
            ["Webhook:Audit:Enabled"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            config[key] = value;
        }

        try
        {
            Action<IServiceCollection>? services = time is null ? null : s => s.AddSingleton(time);
            return new ClusterWebhook(api, await WebhookServer.StartAsync(config, services: services), kubeconfig);
        }
        catch
        {
            await api.DisposeAsync();
            File.Delete(kubeconfig);
            throw;
        }
    }

    /// <summary>Waits until the webhook's snapshot holds exactly the API server's objects at their resourceVersions.</summary>
    public Task WaitForServerStateAsync() => ClusterHarness.WaitUntilAsync(
        () => Webhook.Store.IsReady && Webhook.Store.Current.Snapshot.Objects.Select(o => (o.Key, o.Metadata.ResourceVersion)).ToHashSet().SetEquals(Api.Expected()),
        "the webhook's snapshot to equal the API server's state");

    /// <summary>The API server goes away while the webhook keeps running.</summary>
    public async Task StopApiAsync()
    {
        _apiStopped = true;
        await Api.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Webhook.DisposeAsync();
        if (!_apiStopped)
        {
            await Api.DisposeAsync();
        }

        File.Delete(_kubeconfig);
    }
}
