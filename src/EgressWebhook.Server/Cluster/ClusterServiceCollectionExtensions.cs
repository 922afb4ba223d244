using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// In this namespace so the host can call it without a using (the convention of ASP.NET extension methods).
namespace Microsoft.Extensions.DependencyInjection;

internal static class ClusterServiceCollectionExtensions
{
    /// <summary>The live-cluster snapshot source (<c>Webhook:Source=Cluster</c>): the Kubernetes client (kubeconfig from
    /// <c>Webhook:Cluster:Kubeconfig</c>, else the in-cluster service account), the informers' background service,
    /// <see cref="ICacheHealth"/>, the <see cref="IFreshReadSource"/> for denials and the Events of incomplete chains. Its
    /// options are validated at every start; the rest is created only when the validated <c>Webhook:Source</c> selects it
    /// (otherwise the null objects of <c>AddEgressWebhook</c> stay).</summary>
    public static IEgressWebhookBuilder AddClusterSource(this IEgressWebhookBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ClusterOptions>()
            .Bind(builder.Configuration.GetSection(ClusterOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>());
        services.TryAddSingleton(_ => new ClusterMetrics());
        services.TryAddSingleton(sp => new Kubernetes(ClientConfiguration(sp.GetRequiredService<IOptions<ClusterOptions>>().Value)));
        services.TryAddSingleton(sp => new KubernetesApi(sp.GetRequiredService<Kubernetes>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ClusterSnapshotSource>();
        services.TryAddSingleton<ClusterFreshReadSource>();
        services.TryAddSingleton<ClusterChainEvents>();
        services.AddSingleton(new SnapshotSourceRegistration(WebhookOptions.ClusterSource, sp => sp.GetRequiredService<ClusterSnapshotSource>()));

        static bool Selected(IServiceProvider sp) => sp.GetRequiredService<SnapshotSourceSelector>().IsSelected(WebhookOptions.ClusterSource);
        services.Replace(ServiceDescriptor.Singleton<ICacheHealth>(sp => Selected(sp) ? sp.GetRequiredService<ClusterSnapshotSource>() : NoCache.Instance));
        services.Replace(ServiceDescriptor.Singleton<IFreshReadSource>(sp => Selected(sp) ? sp.GetRequiredService<ClusterFreshReadSource>() : NoFreshReads.Instance));
        services.Replace(ServiceDescriptor.Singleton<IChainEventSink>(sp => Selected(sp) ? sp.GetRequiredService<ClusterChainEvents>() : NoChainEvents.Instance));
        return builder;
    }

    internal static KubernetesClientConfiguration ClientConfiguration(ClusterOptions options)
    {
        var config = string.IsNullOrWhiteSpace(options.Kubeconfig)
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        config.FirstMessageHandlerSetup = KeepAlive;
        return config;
    }

    /// <summary>HTTP/2 health checks on the API server connection, as client-go's transport has (a PING after 30 s
    /// without a frame, the connection dropped if no answer within 15 s): over TLS every watch shares one connection, and
    /// one that died without a reset is then noticed within a minute rather than at the watches' deadline.</summary>
    internal static void KeepAlive(HttpMessageHandler handler)
    {
        if (handler is SocketsHttpHandler sockets)
        {
            sockets.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
            sockets.KeepAlivePingTimeout = TimeSpan.FromSeconds(15);
            sockets.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        }
    }
}
