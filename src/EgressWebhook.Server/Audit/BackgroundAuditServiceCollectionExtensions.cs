using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// In this namespace so the host can call it without a using (the convention of ASP.NET extension methods).
namespace Microsoft.Extensions.DependencyInjection;

internal static class BackgroundAuditServiceCollectionExtensions
{
    /// <summary>Registers <c>Webhook:Audit</c> (validated at start) and the <see cref="BackgroundAudit"/> service, which
    /// runs when the validated options make it active (by default with <c>Webhook:Source=Cluster</c>; off with the state
    /// directory or <c>Webhook:Audit:Enabled=false</c>). It uses the cluster source's client and snapshots.</summary>
    public static IServiceCollection AddBackgroundAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BackgroundAuditOptions>()
            .Bind(configuration.GetSection(BackgroundAuditOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackgroundAuditOptions>, BackgroundAuditOptionsValidator>());
        services.TryAddSingleton(sp => new BackgroundAudit(
            sp.GetRequiredService<EgressWebhook.Server.Cluster.KubernetesApi>(), sp.GetRequiredService<k8s.Kubernetes>(),
            sp.GetRequiredService<EgressWebhook.Server.Snapshots.SnapshotStore>(), sp.GetRequiredService<IOptions<BackgroundAuditOptions>>(),
            sp.GetRequiredService<IOptions<WebhookOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<BackgroundAudit>>(),
            sp.GetRequiredService<Prometheus.CollectorRegistry>(), sp.GetService<IChainEventSink>() ?? NoChainEvents.Instance));
        // AddSingleton, not AddHostedService: its TryAddEnumerable refuses a factory typed IHostedService
        services.AddSingleton<IHostedService>(sp =>
            sp.GetRequiredService<IOptions<BackgroundAuditOptions>>().Value.IsActive(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Source)
                ? sp.GetRequiredService<BackgroundAudit>()
                : InactiveHostedService.Instance);
        return services;
    }
}
