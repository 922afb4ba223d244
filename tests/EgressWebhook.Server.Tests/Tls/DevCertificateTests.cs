using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Tls;

/// <summary>certs/gen-dev-certs.sh end to end: the certificate it makes is the one the server serves, and a client
/// that trusts only the caBundle the script printed (openssl, and .NET's own TLS) accepts it for localhost.</summary>
public sealed class DevCertificateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("egw-devcerts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CertsScript_CertificateIsServed_AndVerifiesAgainstThePrintedCaBundle()
    {
        var certs = Path.Combine(_dir, "certs");
        var script = Run("bash", Path.Combine(TestPaths.Repo, "certs", "gen-dev-certs.sh"), certs);
        Assert.True(script.ExitCode == 0, script.StdErr);
        // the caBundle is the last line of stdout, as a webhook configuration takes it
        var printedCa = Path.Combine(_dir, "printed-ca.crt");
        await File.WriteAllBytesAsync(printedCa, Convert.FromBase64String(script.StdOut.Trim().Split('\n')[^1]));

        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:Tls:CertificateFile"] = Path.Combine(certs, "tls.crt"),
            ["Webhook:Tls:KeyFile"] = Path.Combine(certs, "tls.key"),
        });
        var port = server.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // openssl as the API server's client would: only the printed CA trusted, host name checked
        var handshake = Run("openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost",
            "-CAfile", printedCa, "-verify_hostname", "localhost", "-verify_return_error", "-showcerts");
        Assert.True(handshake.ExitCode == 0, handshake.StdOut + handshake.StdErr);
        Assert.Contains("Verify return code: 0 (ok)", handshake.StdOut, StringComparison.Ordinal);

        // the certificate on the wire is the script's, and openssl verify accepts it against the printed CA
        var begin = handshake.StdOut.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
        const string End = "-----END CERTIFICATE-----";
        var served = Path.Combine(_dir, "served.crt");
        await File.WriteAllTextAsync(served, handshake.StdOut[begin..(handshake.StdOut.IndexOf(End, begin, StringComparison.Ordinal) + End.Length)] + "\n");
        using (var onWire = X509CertificateLoader.LoadCertificateFromFile(served))
        using (var written = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(certs, "tls.crt")))
        {
            Assert.Equal(written.Thumbprint, onWire.Thumbprint);
        }

        var verify = Run("openssl", "verify", "-CAfile", printedCa, served);
        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
        Assert.Equal($"{served}: OK", verify.StdOut.Trim());

        // and an admission over .NET's TLS with the printed CA as the only root: a certificate it does not chain to
        // would fail the request
        using var ca = X509CertificateLoader.LoadCertificateFromFile(printedCa);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            CustomTrustStore = { ca },
            RevocationMode = X509RevocationMode.NoCheck,
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{port}") };
        var result = await WebhookServer.PostAsync(client, Reviews.Create("CREATE", Reviews.VirtualService("x"), uid: "dev-cert"));
        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("dev-cert", result.Uid);
    }

    private static (int ExitCode, string StdOut, string StdErr) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close(); // s_client ends the session at end of input
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 30 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
