using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Tls;

/// <summary>TLS as openssl s_client sees it: TLS 1.3 when the client offers it, TLS 1.2 with AEAD suites only (a CBC
/// suite is refused), for an ECDSA and an RSA serving key.</summary>
public sealed class TlsCipherTests
{
    [Fact]
    public async Task EcdsaKey_Tls12CbcSuiteRefused_AeadSuiteAccepted_Tls13Preferred()
    {
        await using var server = await WebhookServer.StartAsync();
        var port = server.BaseAddress.Port;

        var cbc = SClient(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384");
        Assert.True(cbc.ExitCode != 0, $"a CBC suite was accepted:\n{cbc.Output}");

        var aead = SClient(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
        Assert.True(aead.ExitCode == 0, aead.Output);
        Assert.Contains("ECDHE-ECDSA-AES128-GCM-SHA256", aead.Output, StringComparison.Ordinal);

        var best = SClient(port);
        Assert.True(best.ExitCode == 0, best.Output);
        Assert.Contains("TLSv1.3", best.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RsaKey_Tls12CbcSuiteRefused_AeadSuiteAccepted()
    {
        var dir = Directory.CreateTempSubdirectory("egw-rsa-").FullName;
        try
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(dir, "tls.crt"), cert.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir, "tls.key"), key.ExportPkcs8PrivateKeyPem());
            await using var server = await WebhookServer.StartAsync(new Dictionary<string, string>
            {
                ["Webhook:Tls:CertificateFile"] = Path.Combine(dir, "tls.crt"),
                ["Webhook:Tls:KeyFile"] = Path.Combine(dir, "tls.key"),
            });
            var port = server.BaseAddress.Port;

            var cbc = SClient(port, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384");
            Assert.True(cbc.ExitCode != 0, $"a CBC suite was accepted:\n{cbc.Output}");
            var plainRsa = SClient(port, "-tls1_2", "-cipher", "AES128-GCM-SHA256");
            Assert.True(plainRsa.ExitCode != 0, $"RSA key exchange was accepted:\n{plainRsa.Output}");

            var aead = SClient(port, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384");
            Assert.True(aead.ExitCode == 0, aead.Output);
            Assert.Contains("ECDHE-RSA-AES256-GCM-SHA384", aead.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int ExitCode, string Output) SClient(int port, params string[] args)
    {
        var info = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", "-brief" }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(15_000), "openssl s_client did not finish");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
