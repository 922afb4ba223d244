using EgressWebhook.Core.Admission;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server;

internal static class ServiceCollectionExtensions
{
    /// <summary>The webhook's own registration: options (bound once, validated at start), snapshot store, the admission
    /// handler and its shell, audit log, metrics, TLS certificate reloading, the health-port routing policy, and the null
    /// objects of what a snapshot source may provide (<see cref="NoFreshReads"/>, <see cref="NoCache"/>,
    /// <see cref="NoChainEvents"/>). The sources and the generator are added on the builder it returns:
    /// <c>services.AddEgressWebhook(configuration).AddStateSource().AddClusterSource().AddGenerator()</c>.</summary>
    public static IEgressWebhookBuilder AddEgressWebhook(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(WebhookOptions.SectionName);
        services.AddOptionsWithValidateOnStart<WebhookOptions, WebhookOptionsValidator>().Bind(section);
        services.AddSingleton<IConfigureOptions<WebhookOptions>>(new WebhookOptionsSetup(section));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, HealthPortMatcherPolicy>());

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton(AdmissionHandler.Default);
        services.AddSingleton<AdmissionService>();
        services.AddSingleton(sp => new LargeReviewGate(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Limits));
        services.AddSingleton<IncompleteChainRecheck>();
        services.TryAddSingleton(Prometheus.Metrics.DefaultRegistry);
        services.TryAddSingleton<IFreshReadSource>(NoFreshReads.Instance);
        services.TryAddSingleton<ICacheHealth>(NoCache.Instance);
        services.TryAddSingleton<IChainEventSink>(NoChainEvents.Instance);
        services.AddSingleton<WebhookMetrics>();

        // first hosted service: its StoppingAsync (before any service stops) turns /readyz to 503 and waits the drain delay
        services.AddSingleton<ShutdownDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<ShutdownDrain>());
        services.AddOptions<HostOptions>().Configure<IOptions<WebhookOptions>>((host, webhook) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(webhook.Value.ShutdownTimeoutSeconds));

        // the certificate and the audit writer start before the snapshot source and the server
        services.AddSingleton<CertificateReloader>();
        services.AddHostedService(sp => sp.GetRequiredService<CertificateReloader>());
        services.AddSingleton<AuditLog>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());

        // the snapshot source (AddStateSource, AddClusterSource) starts here in the hosted-service order, before the server
        // AddSingleton, not AddHostedService: its TryAddEnumerable refuses a factory typed IHostedService
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SnapshotSourceSelector>().Selected(sp));
        services.TryAddSingleton<SnapshotSourceSelector>();

        // Webhook:Audit (the background audit writing PolicyReports; on by default with Source=Cluster, one replica at a time)
        services.AddBackgroundAudit(configuration);

        services.AddOptions<KestrelServerOptions>().Configure<CertificateReloader, IOptions<WebhookOptions>>((kestrel, certificates, webhook) =>
        {
            kestrel.AddServerHeader = false;
            KestrelHardening.ApplyLimits(kestrel, webhook.Value.Limits);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                KestrelHardening.ApplyTls(https, webhook.Value.Limits);
                https.ServerCertificateSelector = (_, _) => certificates.Current;
                if (certificates.RequiresClientCertificate)
                {
                    https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) => certificates.ValidateClient(certificate);
                }
            });
        });
        return new EgressWebhookBuilder(services, configuration);
    }

    /// <summary>The state-directory source (<c>Webhook:Source=State</c>, the default): manifests under <c>--state DIR</c>.</summary>
    public static IEgressWebhookBuilder AddStateSource(this IEgressWebhookBuilder builder)
    {
        builder.Services.TryAddSingleton<DirectorySnapshotSource>();
        builder.Services.AddSingleton(new SnapshotSourceRegistration(WebhookOptions.StateSource, sp => sp.GetRequiredService<DirectorySnapshotSource>()));
        return builder;
    }

    /// <summary>Validated options, resolved early so a bad setting stops the process before it listens.</summary>
    public static WebhookOptions GetWebhookOptions(this IServiceProvider services) => services.GetRequiredService<IOptions<WebhookOptions>>().Value;
}
