using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Options;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server;

/// <summary>Builds and runs the webhook host; shared by <c>Program.cs</c> and the tests, which start the same host
/// on a loopback port.</summary>
internal static class WebhookHost
{
    public const string DefaultUrls = "https://0.0.0.0:8443";

    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--state"] = "Webhook:StateDirectory",
        ["--outbound-policy"] = "Webhook:OutboundPolicy",
        ["--kubeconfig"] = "Webhook:Cluster:Kubeconfig",
        ["--source"] = "Webhook:Source",
    };

    /// <summary>A builder with configuration, logging, listen addresses and every service registered.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);

        // defaults under every other source: per-request framework logs stay off the hot path unless asked for
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            },
        });
        builder.Configuration.AddCommandLine(args, SwitchMappings);

        // stdout carries the audit log, one JSON line per decision; every other log goes to stderr
        builder.Logging.AddConsole();
        if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase))
        {
            // the slim builder does not apply Logging:Console:FormatterName on its own
            builder.Logging.AddJsonConsole();
        }
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured ? configured : DefaultUrls;
        const string healthKey = $"{WebhookOptions.SectionName}:{nameof(WebhookOptions.HealthPort)}";
        var healthPort = 8080;
        if (builder.Configuration[healthKey] is { } rawHealth &&
            !int.TryParse(rawHealth, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out healthPort))
        {
            // the listen addresses are decided here, before the options are bound and validated: same message, same exit code
            throw new OptionsValidationException(WebhookOptions.SectionName, typeof(WebhookOptions), [$"{healthKey} '{rawHealth}' must be a port number (0 to 65535)"]);
        }

        if (healthPort is > 0 and <= 65535)
        {
            urls += $";http://{HealthHost(builder.Configuration)}:{healthPort}";
        }

        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseUrls(urls);
        builder.Services.AddEgressWebhook(builder.Configuration);
        return builder;
    }

    /// <summary><c>Webhook:HealthAddress</c> as the host part of a URL; a bad value stops the start like any bad option.</summary>
    private static string HealthHost(ConfigurationManager configuration)
    {
        const string key = $"{WebhookOptions.SectionName}:{nameof(WebhookOptions.HealthAddress)}";
        var raw = configuration[key] ?? new WebhookOptions().HealthAddress;
        if (!System.Net.IPAddress.TryParse(raw, out var address))
        {
            throw new OptionsValidationException(WebhookOptions.SectionName, typeof(WebhookOptions),
                [$"{key} '{raw}' must be an IP address (0.0.0.0 for every interface, 127.0.0.1 for loopback only)"]);
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        var drain = app.Services.GetRequiredService<ShutdownDrain>();
        var healthPort = app.Services.GetRequiredService<AdmissionService>().HealthPort;
        app.Use(next => http =>
        {
            // metrics only on the health port (the NetworkPolicy lets the monitoring namespace reach that port alone)
            if (healthPort > 0 && http.Connection.LocalPort != healthPort && http.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            // draining: HTTP/1.1 clients are asked to close, so their next request opens a connection to another pod
            if (drain.IsDraining && !HttpProtocol.IsHttp2(http.Request.Protocol))
            {
                http.Response.Headers.Connection = "close";
            }

            return next(http);
        });
        app.MapAdmissionEndpoints();
        app.MapHealthEndpoints();
        return app;
    }

    /// <summary>Runs until SIGTERM/SIGINT (in-flight requests finish, exit 0). A bad setting or a failure to start
    /// prints one line to stderr and exits 2 or 1.</summary>
    public static async Task<int> RunAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplication app;
        try
        {
            var builder = CreateBuilder(args);
            configure?.Invoke(builder);
            app = Build(builder);
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM while starting: a requested stop, not a failure
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"egress-webhook: invalid configuration: {string.Join("; ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"egress-webhook: cannot start: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (app.ConfigureAwait(false))
        {
            var options = app.Services.GetWebhookOptions();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            app.Services.GetRequiredService<ILogger<WebApplication>>().Started(addresses, options.Source, options.FailureMode);
            await app.WaitForShutdownAsync().ConfigureAwait(false);
        }

        return 0;
    }
}
