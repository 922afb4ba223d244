using System.Net;
using System.Text;
using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Server.Snapshots;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace EgressWebhook.Server.Tests.Infrastructure;

/// <summary>The real server host (the one Program.cs runs) on Kestrel, HTTPS on a loopback port picked by the OS.</summary>
public sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _temp;

    private WebhookServer(WebApplication app, Uri baseAddress, string temp, string stateDirectory, string auditFile)
    {
        _app = app;
        _temp = temp;
        BaseAddress = baseAddress;
        StateDirectory = stateDirectory;
        AuditFile = auditFile;
        Client = CreateClient();
    }

    public Uri BaseAddress { get; }

    public string StateDirectory { get; }

    public string AuditFile { get; }

    public HttpClient Client { get; }

    internal SnapshotStore Store => _app.Services.GetRequiredService<SnapshotStore>();

    /// <summary>The host's services (a collaborator's state in a test).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>Starts a server. The state directory defaults to a copy of the seed.</summary>
    /// <param name="settings">Configuration keys (<c>Webhook:FailureMode</c>) to add or override.</param>
    /// <param name="engine">An engine in place of the catalogue's.</param>
    /// <param name="stateFiles">Files for the state directory instead of the seed (name → text).</param>
    /// <param name="services">More registrations (a fresh-read source).</param>
    public static async Task<WebhookServer> StartAsync(IDictionary<string, string>? settings = null, EgressEngine? engine = null, IDictionary<string, string>? stateFiles = null,
        Action<IServiceCollection>? services = null)
    {
        var temp = Directory.CreateTempSubdirectory("egw-server-").FullName;
        var state = Path.Combine(temp, "state");
        Directory.CreateDirectory(state);
        if (stateFiles is null)
        {
            foreach (var file in Directory.GetFiles(TestPaths.Seed, "*.yaml"))
            {
                File.Copy(file, Path.Combine(state, Path.GetFileName(file)));
            }
        }
        else
        {
            foreach (var (name, text) in stateFiles)
            {
                File.WriteAllText(Path.Combine(state, name), text);
            }
        }

        var audit = Path.Combine(temp, "audit.log");
        var config = new Dictionary<string, string>
        {
            ["urls"] = "https://127.0.0.1:0",
            ["Webhook:StateDirectory"] = state,
            ["Webhook:HealthPort"] = "0",
            ["Webhook:AuditLog"] = audit,
            ["Webhook:StatePollSeconds"] = "0.5",
            // the drain delay is for a pod behind endpoints; the drain tests set it
            ["Webhook:ShutdownDelaySeconds"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            config[key] = value;
        }

        var builder = WebhookHost.CreateBuilder(config.Select(kv => $"--{kv.Key}={kv.Value}").ToArray());

        // counters of their own: several hosts run in this process
        builder.Services.AddSingleton(Prometheus.Metrics.NewCustomRegistry());
        if (engine is not null)
        {
            builder.Services.AddSingleton(new AdmissionHandler(engine));
        }

        services?.Invoke(builder.Services);
        var app = WebhookHost.Build(builder);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("https://", StringComparison.Ordinal));
        return new WebhookServer(app, new Uri(address), temp, state, audit);
    }

    /// <summary>A client that accepts the server's certificate (self-signed or test CA) and reports it.</summary>
    public HttpClient CreateClient(Action<X509Info>? onCertificate = null, SocketsHttpHandler? handler = null)
    {
        handler ??= new SocketsHttpHandler();
        // the tests' servers use throwaway self-signed certificates; the callback records which one was served
#pragma warning disable CA5359
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is not null)
            {
                onCertificate?.Invoke(new X509Info(certificate.GetCertHashString()));
            }

            return true;
        };
#pragma warning restore CA5359
        return new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Posts a review and returns the HTTP status and, on 200, the parsed response.</summary>
    public Task<AdmissionResult> PostAsync(string json, string path = "/validate") => PostAsync(Client, json, path);

    public static async Task<AdmissionResult> PostAsync(HttpClient client, string json, string path = "/validate")
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        return new AdmissionResult(response.StatusCode, body);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling, for at most <paramref name="timeout"/>.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return await condition();
    }

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed record X509Info(string Thumbprint);

/// <summary>An HTTP answer to a posted review.</summary>
public sealed record AdmissionResult(HttpStatusCode Status, string Body)
{
    public JsonElement Response => JsonDocument.Parse(Body).RootElement.GetProperty("response");

    public JsonElement Root => JsonDocument.Parse(Body).RootElement;

    public bool Allowed => Response.GetProperty("allowed").GetBoolean();

    public string Uid => Response.GetProperty("uid").GetString()!;

    /// <summary>Rule ids from the <c>rules</c> audit annotation.</summary>
    public IReadOnlyList<string> Rules =>
        Response.TryGetProperty("auditAnnotations", out var a) && a.TryGetProperty("rules", out var r)
            ? r.GetString()!.Split(',') : [];

    public IReadOnlyList<string> Warnings =>
        Response.TryGetProperty("warnings", out var w) ? w.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

    public string? StatusMessage => Response.TryGetProperty("status", out var s) && s.TryGetProperty("message", out var m) ? m.GetString() : null;

    public int? StatusCode => Response.TryGetProperty("status", out var s) && s.TryGetProperty("code", out var c) ? c.GetInt32() : null;
}
