using EgressWebhook.Core.Admission;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
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
    /// <summary>The whole registration: options (validated at start), snapshot store and the state-directory or live-cluster source,
    /// the admission handler and its shell, audit log, metrics, TLS certificate reloading.</summary>
    public static IServiceCollection AddEgressWebhook(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptionsWithValidateOnStart<WebhookOptions, WebhookOptionsValidator>()
            .Bind(configuration.GetSection(WebhookOptions.SectionName));

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SnapshotStore>();
        services.AddSingleton(AdmissionHandler.Default);
        services.AddSingleton<AdmissionService>();
        services.AddSingleton<IncompleteChainRecheck>();
        services.TryAddSingleton(Prometheus.Metrics.DefaultRegistry);
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

        switch (configuration[$"{WebhookOptions.SectionName}:{nameof(WebhookOptions.Source)}"])
        {
            case null or WebhookOptions.StateSource:
                services.AddSingleton<DirectorySnapshotSource>();
                services.AddHostedService(sp => sp.GetRequiredService<DirectorySnapshotSource>());
                break;
            case WebhookOptions.ClusterSource:
                // here rather than in Program.cs, so that the tests' host (the same WebhookHost) wires it the same way
                services.AddClusterSnapshotSource(configuration);
                break;
        }

        // Webhook:Generator (validated even when the generator is off: enabling it needs Source=Cluster)
        services.AddRoutingGenerator(configuration);

        // Webhook:Audit (the background audit writing PolicyReports; off unless Webhook:Audit:Interval is set)
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
        return services;
    }

    /// <summary>Validated options, resolved early so a bad setting stops the process before it listens.</summary>
    public static WebhookOptions GetWebhookOptions(this IServiceProvider services) => services.GetRequiredService<IOptions<WebhookOptions>>().Value;
}
