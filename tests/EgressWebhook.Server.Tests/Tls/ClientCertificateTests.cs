using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Tests.Tls;

public sealed class ClientCertificateTests
{
    [Fact]
    public async Task Tls_ClientCaConfigured_OnlyClientsWithACertificateItSignedGetIn()
    {
        var dir = Directory.CreateTempSubdirectory("egw-mtls-").FullName;
        try
        {
            using var ca = CreateCa("CN=api-server-ca");
            using var otherCa = CreateCa("CN=someone-else");
            await File.WriteAllTextAsync(Path.Combine(dir, "ca.crt"), ca.ExportCertificatePem());
            await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:Tls:ClientCaFile"] = Path.Combine(dir, "ca.crt") });
            var review = Reviews.Create("CREATE", Reviews.VirtualService("x"), uid: "mtls");

            using var trusted = server.CreateClient(handler: WithClientCertificate(Issue(ca, "CN=kube-apiserver")));
            var ok = await WebhookServer.PostAsync(trusted, review);
            Assert.Equal(HttpStatusCode.OK, ok.Status);
            Assert.Equal("mtls", ok.Uid);

            using var anonymous = server.CreateClient();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => WebhookServer.PostAsync(anonymous, review));

            using var stranger = server.CreateClient(handler: WithClientCertificate(Issue(otherCa, "CN=intruder")));
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => WebhookServer.PostAsync(stranger, review));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CommandLine_SwitchMappings_ReachTheSettings()
    {
        var state = Directory.CreateTempSubdirectory("egw-switch-").FullName;
        try
        {
            var builder = WebhookHost.CreateBuilder(["--state", state, "--outbound-policy", "registry_only", "--source", "State", "--urls", "https://127.0.0.1:0"]);
            using var app = builder.Build();
            var options = app.Services.GetRequiredService<IOptions<WebhookOptions>>().Value;

            Assert.Equal(state, options.StateDirectory);
            Assert.Equal("REGISTRY_ONLY", options.ToSettings().Policy.OutboundPolicy);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static SocketsHttpHandler WithClientCertificate(X509Certificate2 certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [certificate];
        return handler;
    }

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), serial);
        using var withKey = cert.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
