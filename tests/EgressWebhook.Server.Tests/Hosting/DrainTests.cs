using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Hosting;

/// <summary>Shutdown under load, the way a pod is taken out of a Service: the host is stopped (what SIGTERM does) while
/// 16 clients (HTTP/1.1 and HTTP/2, keep-alive) post reviews; an "endpoints controller" polls /readyz and takes the pod
/// out of rotation a moment after it first answers 503, and the clients stop sending to it then. Every request sent
/// while the pod was in rotation must be answered 200, and a request still in flight when the drain delay ends is
/// finished before the host stops.</summary>
public sealed class DrainTests
{
    /// <summary>Long enough that the test's own steps (a few requests, 0.5 s of load) fit in it with seconds to spare on
    /// a loaded CI machine: the bounds below are the delay itself, never a tighter wall-clock figure.</summary>
    private const double DelaySeconds = 4;

    [Fact]
    public async Task StopUnderLoad_ReadyzFailsAtOnce_KeepsServingForTheDelay_NoRequestLost()
    {
        var server = await WebhookServer.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:ShutdownDelaySeconds"] = DelaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Webhook:ShutdownTimeoutSeconds"] = "10",
        });
        var review = Reviews.Create("CREATE", Reviews.VirtualService("drain"), uid: "drain");
        var inRotation = true;
        var sent = 0;
        var answeredAfterStop = 0;
        var lost = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var stopStarted = 0L;

        var clients = Enumerable.Range(0, 16).Select(i =>
        {
            var client = server.CreateClient();
            client.DefaultRequestVersion = i % 2 == 0 ? HttpVersion.Version11 : HttpVersion.Version20;
            client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            return client;
        }).ToList();
        var workers = clients.Select(client => Task.Run(async () =>
        {
            while (Volatile.Read(ref inRotation))
            {
                Interlocked.Increment(ref sent);
                try
                {
                    var result = await WebhookServer.PostAsync(client, review);
                    if (result.Status != HttpStatusCode.OK || result.Uid != "drain")
                    {
                        lost.Enqueue($"HTTP {(int)result.Status}");
                    }
                    else if (Interlocked.Read(ref stopStarted) != 0)
                    {
                        Interlocked.Increment(ref answeredAfterStop);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
                {
                    lost.Enqueue($"{ex.GetType().Name}: {ex.Message}");
                }
            }
        })).ToList();

        await Task.Delay(500); // load running, connections established
        using var probe = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/readyz")).StatusCode);

        var watch = Stopwatch.StartNew();
        Interlocked.Exchange(ref stopStarted, 1);
        var stopping = server.StopAsync();

        // the endpoints controller: the first 503 takes the pod out of rotation after a propagation lag
        using (var readyz = await probe.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
            Assert.Equal("shutting down\n", await readyz.Content.ReadAsStringAsync());
        }

        // a request that starts during the delay and whose body is still arriving when the delay ends (1.2 s between
        // the halves, inside the 2 s grace of the minimum body rate)
        var slow = SlowRequestAsync(server.BaseAddress.Port, Encoding.UTF8.GetBytes(review), halfAt: TimeSpan.FromSeconds(DelaySeconds - 0.8), restAt: TimeSpan.FromSeconds(DelaySeconds + 0.4), watch);

        await Task.Delay(TimeSpan.FromSeconds(0.5));
        Volatile.Write(ref inRotation, false);
        await Task.WhenAll(workers);
        var servedUntil = watch.Elapsed;

        var slowAnswer = await slow;
        await stopping;
        var stoppedAfter = watch.Elapsed;

        Assert.True(lost.IsEmpty, $"{lost.Count} of {sent} requests lost: {string.Join("; ", lost.Take(5))}");
        Assert.True(answeredAfterStop >= clients.Count, $"only {answeredAfterStop} requests answered after the stop began ({sent} sent)");
        // /readyz answered 503 above, before the clients stopped; they stopped within the delay, the host only after it
        Assert.True(servedUntil < TimeSpan.FromSeconds(DelaySeconds), $"the clients kept sending until {servedUntil}, past the delay: the test's timing is off");
        Assert.StartsWith("HTTP/1.1 200", slowAnswer, StringComparison.Ordinal);
        Assert.Contains("\"uid\":\"drain\"", slowAnswer, StringComparison.Ordinal);
        Assert.True(stoppedAfter >= TimeSpan.FromSeconds(DelaySeconds), $"stopped after {stoppedAfter}, before the {DelaySeconds} s delay");

        // after the delay the server no longer accepts connections
        using var late = server.CreateClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => late.GetAsync("/readyz"));

        var audit = await File.ReadAllLinesAsync(server.AuditFile);
        Assert.Equal(sent - lost.Count + 1, audit.Length);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        await server.DisposeAsync();
    }

    [Fact]
    public async Task Sigterm_Process_ReadyzFailsAtOnce_StillAnswersDuringTheDelay_ThenExitsZero()
    {
        var port = ProcessTests.FreePort();
        using var process = ProcessTests.Start("--state", "examples/state", "--urls", $"https://127.0.0.1:{port}", "--Webhook:HealthPort=0",
            $"--Webhook:ShutdownDelaySeconds={DelaySeconds}", "--Webhook:AuditLog=off");
        _ = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var client = ProcessTests.Client(port);
        var review = await File.ReadAllTextAsync(Path.Combine(TestPaths.Examples, "admission", "allowed.json"));
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
        }, TimeSpan.FromSeconds(15)), "never ready");

        var watch = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        Assert.True(await WebhookServer.EventuallyAsync(async () => (await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(DelaySeconds)),
            "/readyz did not answer 503 within the delay after SIGTERM");
        var during = await WebhookServer.PostAsync(client, review);
        Assert.Equal(HttpStatusCode.OK, during.Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(DelaySeconds), $"the checks took {watch.Elapsed}: the delay had passed");

        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(exit.Token);
        Assert.Equal(0, process.ExitCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(DelaySeconds), $"exited after {watch.Elapsed}, before the delay");
        Assert.Contains("Shutting down: /readyz answers 503", await stderr, StringComparison.Ordinal);
    }

    /// <summary>Headers and half the body at <paramref name="halfAt"/>, the rest at <paramref name="restAt"/>; the raw answer.</summary>
    private static async Task<string> SlowRequestAsync(int port, byte[] body, TimeSpan halfAt, TimeSpan restAt, Stopwatch watch)
    {
        await WaitUntil(watch, halfAt);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
#pragma warning disable CA5359 // the test server's certificate is self-signed
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
#pragma warning restore CA5359
        await tls.AuthenticateAsClientAsync("localhost");
        await tls.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
        await tls.WriteAsync(body.AsMemory(0, body.Length / 2));
        await tls.FlushAsync();
        await WaitUntil(watch, restAt);
        await tls.WriteAsync(body.AsMemory(body.Length / 2));
        await tls.FlushAsync();
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        using var read = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await tls.ReadAsync(buffer, read.Token)) > 0)
        {
            answer.Write(buffer, 0, n);
            if (Encoding.UTF8.GetString(answer.ToArray()).Contains("\"allowed\"", StringComparison.Ordinal))
            {
                break;
            }
        }

        return Encoding.UTF8.GetString(answer.ToArray());
    }

    private static Task WaitUntil(Stopwatch watch, TimeSpan at) => at > watch.Elapsed ? Task.Delay(at - watch.Elapsed) : Task.CompletedTask;
}
