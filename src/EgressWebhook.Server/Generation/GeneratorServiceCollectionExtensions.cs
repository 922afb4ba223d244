using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;

// In this namespace so the host can call it without a using (the convention of ASP.NET extension methods).
namespace Microsoft.Extensions.DependencyInjection;

internal static class GeneratorServiceCollectionExtensions
{
    /// <summary>Registers the generator's options (validated at start: enabling it without <c>Webhook:Source=Cluster</c>
    /// stops the host) and, when <c>Webhook:Generator:Enabled=true</c> with the live-cluster source, the
    /// <see cref="RoutingGenerator"/> background service. It uses the cluster source's client and snapshots
    /// (<c>AddClusterSnapshotSource</c>).</summary>
    public static IServiceCollection AddRoutingGenerator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GeneratorOptions>()
            .Bind(configuration.GetSection(GeneratorOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GeneratorOptions>, GeneratorOptionsValidator>());

        var enabled = string.Equals(configuration[$"{GeneratorOptions.SectionName}:{nameof(GeneratorOptions.Enabled)}"], "true", StringComparison.OrdinalIgnoreCase);
        var cluster = configuration[$"{WebhookOptions.SectionName}:{nameof(WebhookOptions.Source)}"] == WebhookOptions.ClusterSource;
        if (enabled && cluster)
        {
            services.TryAddSingleton(sp => new GeneratorMetrics(sp.GetService<CollectorRegistry>()));
            services.TryAddSingleton<RoutingGenerator>();
            services.AddHostedService(sp => sp.GetRequiredService<RoutingGenerator>());
        }

        return services;
    }
}
