using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.PerObject;
using FluentValidation.TestHelper;
using Severity = FluentValidation.Severity;

namespace EgressWebhook.Core.Tests.Rules.PerObject;

public sealed class GatewayValidatorTests
{
    private readonly GatewayValidator _validator = new();

    private static Model.Gateway Server(string server) => Yaml.Gateway(
        "selector: {istio: egressgateway}\nservers:\n- hosts: [edition.cnn.com]\n" +
        string.Join('\n', server.Trim('\n').Split('\n').Select(l => "  " + l)));

    [Theory]
    [InlineData("HTTPS")]
    [InlineData("TLS")]
    [InlineData("tls")]
    public void Validate_TlsProtocolWithoutTlsBlock_ReportsEgw206(string protocol)
    {
        var gw = Server($"port: {{number: 443, name: tls, protocol: {protocol}}}");

        _validator.TestValidate(gw).ShouldHaveValidationErrorFor("Spec.Servers[0].Tls").WithErrorCode(RuleIds.GatewayServerTls)
            .WithSeverity(Severity.Error);
    }

    [Theory]
    [InlineData("port: {number: 80, name: http, protocol: HTTP}\ntls: {mode: SIMPLE, credentialName: cert}")]
    [InlineData("port: {number: 80, name: http, protocol: HTTP}\ntls: {serverCertificate: /etc/cert.pem}")]
    [InlineData("port: {number: 9000, name: tcp, protocol: TCP}\ntls: {mode: PASSTHROUGH}")]
    [InlineData("port: {number: 27017, name: mongo, protocol: MONGO}\ntls: {httpsRedirect: true}")]
    public void Validate_NonTlsServerWithTlsSettings_ReportsEgw206(string server)
    {
        _validator.TestValidate(Server(server)).ShouldHaveValidationErrorFor("Spec.Servers[0].Tls").WithErrorCode(RuleIds.GatewayServerTls)
            .WithSeverity(Severity.Error);
    }

    [Theory]
    [InlineData("port: {number: 80, name: http, protocol: HTTP}\ntls: {httpsRedirect: true}")]
    [InlineData("port: {number: 80, name: http, protocol: HTTP}")]
    [InlineData("port: {number: 443, name: tls, protocol: TLS}\ntls: {mode: PASSTHROUGH}")]
    [InlineData("port: {number: 443, name: https, protocol: HTTPS}\ntls: {mode: SIMPLE, credentialName: cert}")]
    [InlineData("port: {number: 80, name: https, protocol: HTTPS}\ntls: {mode: ISTIO_MUTUAL}")]
    [InlineData("port: {number: 443, name: tls, protocol: TLS}\ntls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k, caCertificates: /ca}")]
    [InlineData("port: {number: 443, name: tls, protocol: TLS}\ntls: {mode: SOME_FUTURE_MODE}")]
    public void Validate_ConsistentServerTls_IsAccepted(string server)
    {
        _validator.TestValidate(Server(server)).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_CredentialNameWithoutMode_WarnsEgw206()
    {
        var gw = Server("port: {number: 443, name: https, protocol: HTTPS}\ntls: {credentialName: cnn-cert}");

        var result = _validator.TestValidate(gw);

        result.ShouldHaveValidationErrorFor("Spec.Servers[0].Tls.CredentialName").WithErrorCode(RuleIds.GatewayServerTls)
            .WithSeverity(Severity.Warning);
        Assert.DoesNotContain(result.Errors, e => e.Severity == Severity.Error);
    }

    [Theory]
    [InlineData("mode: PASSTHROUGH, serverCertificate: /c, privateKey: /k")]
    [InlineData("mode: AUTO_PASSTHROUGH, credentialName: cnn-cert")]
    [InlineData("caCertificates: /ca")]
    public void Validate_PassthroughWithCertificateFields_WarnsEgw206(string tls)
    {
        var gw = Server($"port: {{number: 443, name: tls, protocol: TLS}}\ntls: {{{tls}}}");

        _validator.TestValidate(gw).ShouldHaveValidationErrorFor("Spec.Servers[0].Tls").WithErrorCode(RuleIds.GatewayServerTls)
            .WithSeverity(Severity.Warning);
    }

    [Theory]
    [InlineData("number: 0", "Spec.Servers[0].Port.Number")]
    [InlineData("number: 70000", "Spec.Servers[0].Port.Number")]
    [InlineData("number: 80", "Spec.Servers[0].Port.Protocol")]
    [InlineData("number: 80, protocol: SPDY", "Spec.Servers[0].Port.Protocol")]
    public void Validate_InvalidServerPort_ReportsEgw205(string port, string path)
    {
        var gw = Server($"port: {{name: p, {port}}}");

        _validator.TestValidate(gw).ShouldHaveValidationErrorFor(path).WithErrorCode(RuleIds.InvalidPorts);
    }

    [Fact]
    public void Validate_UnixBindWithoutPortNumber_IsAccepted()
    {
        var gw = Server("bind: unix:///var/run/gw.sock\nport: {number: 0, name: uds, protocol: HTTP}");

        _validator.TestValidate(gw).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_DuplicatePortNameAcrossServers_ReportsEgw205()
    {
        var gw = Yaml.Gateway("""
            servers:
            - {hosts: [a.example.com], port: {number: 443, name: tls, protocol: TLS}, tls: {mode: PASSTHROUGH}}
            - {hosts: [b.example.com], port: {number: 8443, name: tls, protocol: TLS}, tls: {mode: PASSTHROUGH}}
            """);

        _validator.TestValidate(gw).ShouldHaveValidationErrorFor("Spec.Servers[1].Port.Name").WithErrorCode(RuleIds.InvalidPorts);
    }

    [Fact]
    public void Validate_SamePortNumberOnSeveralServers_IsAccepted()
    {
        var gw = Yaml.Gateway("""
            servers:
            - {hosts: [a.example.com], port: {number: 443, name: tls-a, protocol: TLS}, tls: {mode: PASSTHROUGH}}
            - {hosts: [b.example.com], port: {number: 443, name: tls-b, protocol: TLS}, tls: {mode: PASSTHROUGH}}
            """);

        _validator.TestValidate(gw).ShouldNotHaveAnyValidationErrors();
    }
}
