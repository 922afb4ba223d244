using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Tls;

/// <summary>Certificate files replaced under a running server: new connections get the new certificate, no request fails.</summary>
public sealed class CertificateReloadTests
{
    [Fact]
    public async Task Tls_CertificateFilesReplacedUnderLoad_NewConnectionsGetNewCertificateAndNoRequestFails()
    {
        var dir = Directory.CreateTempSubdirectory("egw-tls-").FullName;
        try
        {
            // the cert-manager Secret volume layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/
            var (a, aCert, aKey) = Pem("a");
            var (b, bCert, bKey) = Pem("b");
            var (c, cCert, cKey) = Pem("c");
            WriteVersion(dir, "..v1", aCert, aKey);
            File.CreateSymbolicLink(Path.Combine(dir, "..data"), "..v1");
            File.CreateSymbolicLink(Path.Combine(dir, "tls.crt"), Path.Combine("..data", "tls.crt"));
            File.CreateSymbolicLink(Path.Combine(dir, "tls.key"), Path.Combine("..data", "tls.key"));

            await using var server = await WebhookServer.StartAsync(new Dictionary<string, string>
            {
                ["Webhook:Tls:CertificateFile"] = Path.Combine(dir, "tls.crt"),
                ["Webhook:Tls:KeyFile"] = Path.Combine(dir, "tls.key"),
                ["Webhook:Tls:ReloadSeconds"] = "0.5",
            });

            var seen = new System.Collections.Concurrent.ConcurrentQueue<(DateTime At, string Thumbprint)>();
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var requests = 0;
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    // a new client is a new connection and a new handshake
                    string? thumbprint = null;
                    using var client = server.CreateClient(x => thumbprint = x.Thumbprint);
                    try
                    {
                        var result = await WebhookServer.PostAsync(client, Reviews.Create("CREATE", Reviews.VirtualService("x"), uid: "tls"));
                        if (result.Status != HttpStatusCode.OK || !result.Allowed)
                        {
                            failures.Enqueue($"{result.Status} {result.Body}");
                        }

                        seen.Enqueue((DateTime.UtcNow, thumbprint!));
                        Interlocked.Increment(ref requests);
                    }
                    catch (HttpRequestException ex)
                    {
                        failures.Enqueue(ex.Message);
                    }
                }
            })).ToArray();

            await Task.Delay(500);

            // a plain rewrite, key first: for a moment the pair does not match and the old certificate must stay
            WriteVersion(dir, "..v1", bCert, bKey);
            var bServed = await WebhookServer.EventuallyAsync(() => Task.FromResult(seen.Any(s => s.Thumbprint == b)), TimeSpan.FromSeconds(10));

            // the Secret-volume way: a new directory, then the ..data link swapped atomically
            WriteVersion(dir, "..v2", cCert, cKey);
            File.CreateSymbolicLink(Path.Combine(dir, "..data.tmp"), "..v2");
            Rename(Path.Combine(dir, "..data.tmp"), Path.Combine(dir, "..data"));
            var cServed = await WebhookServer.EventuallyAsync(() => Task.FromResult(seen.Any(s => s.Thumbprint == c)), TimeSpan.FromSeconds(10));
            var switched = DateTime.UtcNow;
            await Task.Delay(500);
            await stop.CancelAsync();
            await Task.WhenAll(load);

            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)));
            Assert.True(bServed, "the rewritten certificate was never served");
            Assert.True(cServed, "the certificate behind the swapped ..data link was never served");
            Assert.Contains(seen, s => s.Thumbprint == a);
            Assert.All(seen.Where(s => s.At > switched.AddMilliseconds(200)), s => Assert.Equal(c, s.Thumbprint));
            Assert.True(requests > 20, $"only {requests} requests ran");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>rename(2) of a link to a directory over another (File.Move refuses: it follows the link to a directory).</summary>
    private static void Rename(string from, string to)
    {
        using var mv = System.Diagnostics.Process.Start("mv", ["-T", "-f", from, to]);
        mv.WaitForExit();
        Assert.Equal(0, mv.ExitCode);
    }

    private static void WriteVersion(string dir, string version, string cert, string key)
    {
        var path = Path.Combine(dir, version);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "tls.key"), key);
        File.WriteAllText(Path.Combine(path, "tls.crt"), cert);
    }

    private static (string Thumbprint, string Certificate, string Key) Pem(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=localhost, O={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.GetCertHashString(), cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
