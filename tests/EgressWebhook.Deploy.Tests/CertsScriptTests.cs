using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>certs/gen-dev-certs.sh, run for real with bash and openssl into a temporary directory.</summary>
public sealed class CertsScriptTests : IDisposable
{
    private const string Script = "certs/gen-dev-certs.sh";

    private readonly string _out = Path.Combine(Path.GetTempPath(), "egw-certs-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public void Script_MakesACertificateThatOpensslVerifiesAgainstThePrintedCa()
    {
        var caBundle = Generate();

        // The caBundle printed last is the CA that was written.
        Assert.Equal(File.ReadAllBytes(Path.Combine(_out, "ca.crt")), Convert.FromBase64String(caBundle));

        var verify = Processes.Run("openssl", ["verify", "-CAfile", "ca.crt", "tls.crt"], _out);
        Assert.True(verify.ExitCode == 0, verify.Describe("openssl verify"));
        Assert.Equal("tls.crt: OK", verify.StdOut.Trim());
    }

    [Fact]
    public void Certificate_NamesLocalhostAndTheInClusterService_AsCertManagerDoes()
    {
        Generate();

        var sans = Processes.Run("openssl", ["x509", "-in", "tls.crt", "-noout", "-ext", "subjectAltName"], _out);
        Assert.True(sans.ExitCode == 0, sans.Describe("openssl x509"));
        var names = sans.StdOut.Split('\n', 2)[1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("DNS:localhost", names);
        Assert.Contains("IP Address:127.0.0.1", names);
        // The same names cert-manager puts in the serving certificate.
        var serving = Rendered.Overlay("default").OfKind("Certificate").Single(c => c.Spec.Str("secretName") == ServerContract.TlsSecret);
        Assert.All(serving.Spec.Strings("dnsNames"), dns => Assert.Contains("DNS:" + dns, names));
        Assert.Contains("DNS:" + ServerContract.ServiceDnsName, names);
    }

    [Fact]
    public void Certificate_LoadsInDotNet_ChainsToTheCa_ForServerAuth()
    {
        Generate();

        using var tls = X509Certificate2.CreateFromPemFile(Path.Combine(_out, "tls.crt"), Path.Combine(_out, "tls.key"));
        using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_out, "ca.crt"));
        Assert.True(tls.HasPrivateKey);
        Assert.True(tls.MatchesHostname(ServerContract.ServiceDnsName));
        Assert.True(tls.MatchesHostname("localhost"));
        Assert.False(tls.MatchesHostname("other.egress-webhook.svc"));

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
        Assert.True(chain.Build(tls), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public void Script_IsIdempotent_AndRenewsOnlyWhatIsMissing()
    {
        var first = Generate();
        var ca = File.ReadAllBytes(Path.Combine(_out, "ca.crt"));
        var tls = File.ReadAllBytes(Path.Combine(_out, "tls.crt"));

        Assert.Equal(first, Generate());
        Assert.Equal(ca, File.ReadAllBytes(Path.Combine(_out, "ca.crt")));
        Assert.Equal(tls, File.ReadAllBytes(Path.Combine(_out, "tls.crt")));

        File.Delete(Path.Combine(_out, "tls.key"));
        Assert.Equal(first, Generate());
        Assert.NotEqual(tls, File.ReadAllBytes(Path.Combine(_out, "tls.crt")));
        Assert.Equal(0, Processes.Run("openssl", ["verify", "-CAfile", "ca.crt", "tls.crt"], _out).ExitCode);
    }

    [Fact]
    public void Script_KeepsTheKeysPrivate()
    {
        Generate();

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_out, "tls.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_out, "ca.key")));
        }

        Assert.Equal(["ca.crt", "ca.key", "tls.crt", "tls.key"], Directory.GetFiles(_out).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("certs/out/ca.key")]
    [InlineData("certs/out/tls.key")]
    [InlineData("certs/out/tls.crt")]
    public void DefaultOutputDirectory_IsIgnoredByGit(string path)
    {
        var result = Processes.Run("git", "check-ignore", "--quiet", "--no-index", path);

        Assert.True(result.ExitCode == 0, result.Describe($"git check-ignore {path}"));
    }

    [Fact]
    public void Script_FailsFastOnErrors()
    {
        var text = File.ReadAllText(RepoPaths.Of(Script));

        Assert.StartsWith("#!/usr/bin/env bash", text, StringComparison.Ordinal);
        Assert.Contains("\nset -euo pipefail\n", text);
    }

    /// <summary>Runs the script into the temporary directory and returns the caBundle (its last stdout line).</summary>
    private string Generate()
    {
        var result = Processes.Run("bash", [RepoPaths.Of(Script), _out]);
        Assert.True(result.ExitCode == 0, result.Describe(Script));
        var lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return Assert.Single(lines);
    }
}
