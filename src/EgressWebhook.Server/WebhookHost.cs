using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Logging;
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

        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Services.AddEgressWebhook(builder.Configuration)
            .AddStateSource()
            .AddClusterSource()
            .AddGenerator();
        return builder;
    }

    /// <summary>The validated <c>Webhook:HealthAddress</c> as the host part of a URL.</summary>
    private static string HealthHost(string healthAddress)
    {
        var address = System.Net.IPAddress.Parse(healthAddress);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();

        // the listen addresses: --urls (else the default) and the health port from the validated options (a bad setting
        // throws OptionsValidationException here, before anything listens)
        var options = app.Services.GetWebhookOptions();
        var urls = app.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured ? configured : DefaultUrls;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            app.Urls.Add(url);
        }

        if (options.HealthPort > 0)
        {
            app.Urls.Add($"http://{HealthHost(options.HealthAddress)}:{options.HealthPort}");
        }

        var drain = app.Services.GetRequiredService<ShutdownDrain>();
        app.Use(next => http =>
        {
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
