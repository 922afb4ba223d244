using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Hosting;

/// <summary>How client authentication is switched, what a draining server tells HTTP/1.1 clients.</summary>
public sealed class HardeningTests
{
    [Fact]
    public async Task ClientAuth_ExplicitlyOff_NoCertificateAsked_EvenWithACaFile()
    {
        var dir = Directory.CreateTempSubdirectory("egw-noauth-").FullName;
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var ca = new CertificateRequest("CN=unused-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
            var caFile = Path.Combine(dir, "ca.crt");
            await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());

            await using (var off = await WebhookServer.StartAsync(new Dictionary<string, string>
            {
                ["Webhook:Tls:ClientCaFile"] = caFile,
                ["Webhook:Tls:RequireClientCertificate"] = "false",
            }))
            {
                var result = await off.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x"), uid: "anonymous"));
                Assert.Equal("anonymous", result.Uid);
            }

            await using var on = await WebhookServer.StartAsync(new Dictionary<string, string>
            {
                ["Webhook:Tls:ClientCaFile"] = caFile,
                ["Webhook:Tls:RequireClientCertificate"] = "true",
            });
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => on.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x"))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Draining_Http11AnswersSayConnectionClose()
    {
        var server = await WebhookServer.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:ShutdownDelaySeconds"] = "1",
            ["Webhook:ShutdownTimeoutSeconds"] = "5",
        });
        using var before = await server.Client.PostAsync("/validate", new StringContent(Reviews.Create("CREATE", Reviews.VirtualService("x")), System.Text.Encoding.UTF8, "application/json"));
        Assert.False(before.Headers.ConnectionClose ?? false);

        var stopping = server.StopAsync();
        using var during = await server.Client.PostAsync("/validate", new StringContent(Reviews.Create("CREATE", Reviews.VirtualService("x")), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, during.StatusCode);
        Assert.True(during.Headers.ConnectionClose);
        await stopping;
        await server.DisposeAsync();
    }
}
