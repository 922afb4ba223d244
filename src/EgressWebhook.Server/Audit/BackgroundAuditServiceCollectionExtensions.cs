using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// In this namespace so the host can call it without a using (the convention of ASP.NET extension methods).
namespace Microsoft.Extensions.DependencyInjection;

internal static class BackgroundAuditServiceCollectionExtensions
{
    /// <summary>Registers <c>Webhook:Audit</c> (validated at start) and, when <c>Webhook:Audit:Interval</c> is set with the
    /// live-cluster source, the <see cref="BackgroundAudit"/> service. It uses the cluster source's client and snapshots.</summary>
    public static IServiceCollection AddBackgroundAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BackgroundAuditOptions>()
            .Bind(configuration.GetSection(BackgroundAuditOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackgroundAuditOptions>, BackgroundAuditOptionsValidator>());

        var interval = configuration[$"{BackgroundAuditOptions.SectionName}:{nameof(BackgroundAuditOptions.Interval)}"];
        var cluster = configuration[$"{WebhookOptions.SectionName}:{nameof(WebhookOptions.Source)}"] == WebhookOptions.ClusterSource;
        if (!string.IsNullOrWhiteSpace(interval) && cluster)
        {
            services.TryAddSingleton<BackgroundAudit>();
            services.AddHostedService(sp => sp.GetRequiredService<BackgroundAudit>());
        }

        return services;
    }
}
