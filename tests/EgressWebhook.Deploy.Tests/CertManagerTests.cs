using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>cert-manager issues the certificate the pods mount, for the names the API server dials, and
/// injects its CA into both webhook configurations.</summary>
public sealed class CertManagerTests
{
    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ServingCertificate_IsTheMountedSecret_ForTheServiceDnsNames(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var serving = ServingCertificate(rendered);

        var service = rendered.Get("Service", ServerContract.Namespace, ServerContract.ServiceName);
        var expected = new[] { $"{service.Name}.{service.Namespace}.svc", $"{service.Name}.{service.Namespace}.svc.cluster.local" };
        Assert.Equal(expected.Order(StringComparer.Ordinal), serving.Spec.Strings("dnsNames").Order(StringComparer.Ordinal));
        Assert.Contains(ServerContract.ServiceDnsName, expected);
        Assert.Equal(ServerContract.TlsSecret, serving.Spec.Str("secretName"));
        Assert.Equal(rendered.WebhookNamespace, serving.Namespace);
        Assert.Contains("server auth", serving.Spec.Strings("usages"));
        Assert.NotEqual(true, serving.Spec.Bool("isCA"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void BothWebhookConfigurations_InjectTheCaOfTheServingCertificate(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var serving = ServingCertificate(rendered);

        Assert.Equal(2, rendered.WebhookConfigurations.Count());
        foreach (var configuration in rendered.WebhookConfigurations)
        {
            var annotation = configuration.Json.Map("metadata", "annotations").GetValueOrDefault("cert-manager.io/inject-ca-from");
            Assert.Equal($"{serving.Namespace}/{serving.Name}", annotation);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void IssuerChain_SelfSignedIssuer_CaCertificate_CaIssuer_ServingCertificate(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var serving = ServingCertificate(rendered);

        var caIssuer = IssuerOf(rendered, serving);
        var caSecret = caIssuer.Spec.Str("ca", "secretName") ?? throw new Xunit.Sdk.XunitException($"{caIssuer} is not a CA issuer");
        var caCertificate = Assert.Single(rendered.OfKind("Certificate"), c => c.Namespace == serving.Namespace && c.Spec.Str("secretName") == caSecret);
        Assert.True(caCertificate.Spec.Bool("isCA"), $"{caCertificate} must be a CA");
        Assert.NotEqual(ServerContract.TlsSecret, caSecret);

        var root = IssuerOf(rendered, caCertificate);
        Assert.NotNull(root.Spec.At("selfSigned"));
    }

    [Fact]
    public void Base_HasNoCertManagerObjects_SoItIsUsableWithOtherCertificates()
    {
        var rendered = Rendered.Of(Path.Combine(RepoPaths.Deploy, "base"));

        Assert.DoesNotContain(rendered.Objects, o => o.Group == "cert-manager.io");
        Assert.All(rendered.WebhookConfigurations, c => Assert.DoesNotContain("cert-manager.io/inject-ca-from", c.Json.Map("metadata", "annotations").Keys));
    }

    /// <summary>The Certificate whose Secret the webhook pods mount.</summary>
    private static K8sObject ServingCertificate(Rendered rendered)
    {
        // the volume at the TLS mount path (the default overlay also mounts the client CA from another Secret)
        var mount = Assert.Single(Assert.Single(rendered.Containers).Items("volumeMounts"), m => m.Str("mountPath") == ServerContract.TlsMountPath);
        var secret = Assert.Single(rendered.PodSpec.Items("volumes"), v => v.Str("name") == mount.Str("name")).Str("secret", "secretName");
        return Assert.Single(rendered.OfKind("Certificate"), c => c.Namespace == rendered.WebhookNamespace && c.Spec.Str("secretName") == secret);
    }

    private static K8sObject IssuerOf(Rendered rendered, K8sObject certificate)
    {
        var issuerRef = certificate.Spec.At("issuerRef") ?? throw new Xunit.Sdk.XunitException($"{certificate} has no issuerRef");
        Assert.Equal("Issuer", issuerRef.Str("kind") ?? "Issuer");
        Assert.Equal("cert-manager.io", issuerRef.Str("group") ?? "cert-manager.io");
        return rendered.Get("Issuer", certificate.Namespace, issuerRef.Str("name")!);
    }
}
