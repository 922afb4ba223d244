using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Snapshots;
using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// In this namespace so Program.cs can call it without a using (the convention of ASP.NET extension methods).
namespace Microsoft.Extensions.DependencyInjection;

internal static class ClusterServiceCollectionExtensions
{
    /// <summary>Registers the live-cluster snapshot source (<c>Webhook:Source=Cluster</c>): the Kubernetes client
    /// (kubeconfig from <c>Webhook:Cluster:Kubeconfig</c>, else the in-cluster service account), the informers'
    /// background service, <see cref="ICacheHealth"/> and the <see cref="IFreshReadSource"/> for denials.</summary>
    public static IServiceCollection AddClusterSnapshotSource(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>()
            .Bind(configuration.GetSection(ClusterOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SnapshotStore>();
        services.TryAddSingleton(_ => new ClusterMetrics());
        services.TryAddSingleton(sp => new Kubernetes(ClientConfiguration(sp.GetRequiredService<IOptions<ClusterOptions>>().Value)));
        services.TryAddSingleton(sp => new KubernetesApi(sp.GetRequiredService<Kubernetes>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ClusterSnapshotSource>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterSnapshotSource>());
        services.TryAddSingleton<ICacheHealth>(sp => sp.GetRequiredService<ClusterSnapshotSource>());
        services.TryAddSingleton<IFreshReadSource, ClusterFreshReadSource>();
        services.TryAddSingleton<EgressWebhook.Server.Admission.IChainEventSink, EgressWebhook.Server.Admission.ClusterChainEvents>();
        return services;
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
