using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;

// In this namespace so the host can call it without a using (the convention of ASP.NET extension methods).
namespace Microsoft.Extensions.DependencyInjection;

internal static class GeneratorServiceCollectionExtensions
{
    /// <summary>The routing generator: its options (validated at every start: enabling it without <c>Webhook:Source=Cluster</c>
    /// stops the host) and the <see cref="RoutingGenerator"/> background service, created only when the validated options
    /// have <c>Webhook:Generator:Enabled=true</c> with the live-cluster source. It uses that source's client and snapshots
    /// (<c>AddClusterSource</c>).</summary>
    public static IEgressWebhookBuilder AddGenerator(this IEgressWebhookBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GeneratorOptions>()
            .Bind(builder.Configuration.GetSection(GeneratorOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GeneratorOptions>, GeneratorOptionsValidator>());
        services.TryAddSingleton(sp => new GeneratorMetrics(sp.GetService<CollectorRegistry>()));
        services.TryAddSingleton<RoutingGenerator>();
        // AddSingleton, not AddHostedService: its TryAddEnumerable refuses a factory typed IHostedService
        services.AddSingleton<IHostedService>(sp =>
            sp.GetRequiredService<IOptions<GeneratorOptions>>().Value.Enabled &&
            sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Source == WebhookOptions.ClusterSource
                ? sp.GetRequiredService<RoutingGenerator>()
                : InactiveHostedService.Instance);
        return builder;
    }
}
