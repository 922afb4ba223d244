using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Hosting;

/// <summary>The built server as a process, the way the README runs it: serves within 10 s, audits to stdout,
/// exits 0 on SIGTERM, refuses a bad setting with one line.</summary>
public sealed class ProcessTests
{
    [Fact]
    public async Task ReadmeCommand_ServesValidateWithin10Seconds_ExitsZeroOnSigterm()
    {
        var port = FreePort();
        using var process = Start("--state", "examples/state", "--urls", $"https://127.0.0.1:{port}", "--Webhook:HealthPort=0");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var client = Client(port);
        var allowed = await File.ReadAllTextAsync(Path.Combine(TestPaths.Examples, "admission", "allowed.json"));
        var watch = Stopwatch.StartNew();

        AdmissionResult? first = null;
        while (watch.Elapsed < TimeSpan.FromSeconds(10) && first is null && !process.HasExited)
        {
            try
            {
                first = await WebhookServer.PostAsync(client, allowed);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(first is not null, $"no answer within 10 s; exited={process.HasExited}\n{(process.HasExited ? await stderr : "")}");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("0c9e4f2a-6b1d-4c3e-8f7a-1b2c3d4e5f60", first.Uid);
        Assert.True(first.Allowed);

        var denied = await WebhookServer.PostAsync(client, await File.ReadAllTextAsync(Path.Combine(TestPaths.Examples, "admission", "denied.json")));
        var expected = ExpectedForDeniedExample();
        Assert.Equal("7f3b6c1e-2d4a-4e8b-9c1f-0a5e6d7b8c90", denied.Uid);
        Assert.Equal(expected.Allowed, denied.Allowed);
        Assert.Equal(expected.Findings.Select(f => f.Rule).Distinct().Order(StringComparer.Ordinal), denied.Rules);

        // the /mutate example of docs/server.md: an entry opted in by annotation gets its defaults
        var mutated = await WebhookServer.PostAsync(client, await File.ReadAllTextAsync(Path.Combine(TestPaths.Examples, "admission", "mutate.json")), "/mutate");
        Assert.True(mutated.Allowed);
        Assert.Equal("JSONPatch", mutated.Response.GetProperty("patchType").GetString());
        var patch = JsonDocument.Parse(Convert.FromBase64String(mutated.Response.GetProperty("patch").GetString()!)).RootElement;
        Assert.Equal(["/spec/location", "/spec/resolution", "/spec/ports/0/name", "/spec/ports/1/name"],
            patch.EnumerateArray().Select(o => o.GetProperty("path").GetString()));

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(exit.Token);
        Assert.Equal(0, process.ExitCode);

        // stdout is the audit log: one JSON line per decision, nothing else
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["0c9e4f2a-6b1d-4c3e-8f7a-1b2c3d4e5f60", "7f3b6c1e-2d4a-4e8b-9c1f-0a5e6d7b8c90", "3d6a0b7e-91c2-4f5d-a8e3-6c1b2d9f0e47"],
            lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("uid").GetString()));
        Assert.Equal("patched", JsonDocument.Parse(lines[2]).RootElement.GetProperty("decision").GetString());
        Assert.Contains("for development only", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_RequestInFlight_FinishedBeforeExitZero()
    {
        var port = FreePort();
        using var process = Start("--state", "examples/state", "--urls", $"https://127.0.0.1:{port}", "--Webhook:HealthPort=0");
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var client = Client(port);
        Assert.True(await WebhookServer.EventuallyAsync(async () =>
        {
            try
            {
                return (await client.GetAsync("/readyz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10)));

        // half a review on the wire, then SIGTERM, then the other half
        var body = System.Text.Encoding.UTF8.GetBytes(await File.ReadAllTextAsync(Path.Combine(TestPaths.Examples, "admission", "allowed.json")));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
#pragma warning disable CA5359 // the development certificate is self-signed by design
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
#pragma warning restore CA5359
        await tls.AuthenticateAsClientAsync("localhost");
        await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
        await tls.WriteAsync(body.AsMemory(0, body.Length / 2));
        await tls.FlushAsync();
        await Task.Delay(300);

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await Task.Delay(500);
        Assert.False(process.HasExited, "the server exited with a request in flight");
        await tls.WriteAsync(body.AsMemory(body.Length / 2));
        await tls.FlushAsync();
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        using var read = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!System.Text.Encoding.UTF8.GetString(answer.ToArray()).Contains("\"allowed\"", StringComparison.Ordinal))
        {
            var n = await tls.ReadAsync(buffer, read.Token);
            Assert.NotEqual(0, n);
            answer.Write(buffer, 0, n);
        }

        Assert.StartsWith("HTTP/1.1 200", System.Text.Encoding.UTF8.GetString(answer.ToArray()), StringComparison.Ordinal);
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(exit.Token);
        Assert.Equal(0, process.ExitCode);
        Assert.Single((await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task BadSetting_ExitsNonZeroWithOneLineMessage()
    {
        using var process = Start("--state", "examples/state", "--urls", $"https://127.0.0.1:{FreePort()}", "--Webhook:HealthPort=0", "--Webhook:FailureMode=Sometimes");
        var stderr = process.StandardError.ReadToEndAsync();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        await process.WaitForExitAsync(exit.Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Equal("egress-webhook: invalid configuration: Webhook:FailureMode 'Sometimes' must be Deny or Allow", (await stderr).Trim());
    }

    [Fact]
    public async Task JsonConsoleOption_EveryLogLineOnStderrIsJson()
    {
        var port = FreePort();
        using var process = Start("--state", "examples/state", "--urls", $"https://127.0.0.1:{port}", "--Webhook:HealthPort=0", "--Logging:Console:FormatterName=json");
        var stderr = process.StandardError.ReadToEndAsync();
        using var client = Client(port);
        Assert.True(await WebhookServer.EventuallyAsync(async () =>
        {
            try
            {
                return (await client.GetAsync("/readyz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10)));

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(exit.Token);
        Assert.Equal(0, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("\"EventId\":1100", StringComparison.Ordinal));
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
    }

    /// <summary>What the engine says about examples/admission/denied.json against examples/state.</summary>
    private static EgressReport ExpectedForDeniedExample()
    {
        var state = EgressSnapshot.Create(Directory.GetFiles(Path.Combine(TestPaths.Examples, "state"), "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => ManifestReader.Read(File.ReadAllText(f))));
        var request = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Examples, "admission", "denied.json"))).RootElement.GetProperty("request");
        var obj = ObjectDecoder.Decode(request.GetProperty("object"), "default");
        var old = ObjectDecoder.Decode(request.GetProperty("oldObject"), "default");
        return EgressEngine.Default.CheckChange(state, new ObjectChange(Operation.Update, obj, old), RuleSettings.Default);
    }

    internal static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TestPaths.Repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ServerDll());
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        if (!args.Any(a => a.StartsWith("--Webhook:ShutdownDelaySeconds", StringComparison.Ordinal)))
        {
            // the drain delay matters behind endpoints; the drain test sets its own
            info.ArgumentList.Add("--Webhook:ShutdownDelaySeconds=0");
        }

        info.Environment.Remove("ASPNETCORE_URLS");
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        return Process.Start(info)!;
    }

    /// <summary>The server as `dotnet run` builds it (same configuration as these tests), else the copy beside the tests.</summary>
    private static string ServerDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var built = Path.Combine(TestPaths.Repo, "src", "EgressWebhook.Server", "bin", configuration, "net10.0", "EgressWebhook.Server.dll");
        return File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "EgressWebhook.Server.dll");
    }

    internal static HttpClient Client(int port)
    {
        var handler = new SocketsHttpHandler();
#pragma warning disable CA5359 // the development certificate is self-signed by design
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
