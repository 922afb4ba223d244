using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.PerObject;
using FluentValidation.TestHelper;

namespace EgressWebhook.Core.Tests.Rules.PerObject;

public sealed class DestinationRuleValidatorTests
{
    private readonly DestinationRuleValidator _validator = new();

    private static Model.DestinationRule TopLevel(string tls) =>
        Yaml.DestinationRule($"host: edition.cnn.com\ntrafficPolicy:\n  tls: {{{tls}}}");

    [Theory]
    [InlineData("mode: SIMPLE, credentialName: c, caCertificates: /ca")]
    [InlineData("mode: MUTUAL, credentialName: c, clientCertificate: /c, privateKey: /k")]
    public void Validate_CredentialNameWithFiles_ReportsEgw208(string tls)
    {
        _validator.TestValidate(TopLevel(tls)).ShouldHaveValidationErrorFor("Spec.TrafficPolicy.Tls.CredentialName")
            .WithErrorCode(RuleIds.DestinationRuleTlsSettings);
    }

    [Fact]
    public void Validate_MutualWithoutCredentialNameOrFiles_ReportsEgw208ForBothFiles()
    {
        var result = _validator.TestValidate(TopLevel("mode: MUTUAL, caCertificates: /ca"));

        result.ShouldHaveValidationErrorFor("Spec.TrafficPolicy.Tls.ClientCertificate").WithErrorCode(RuleIds.DestinationRuleTlsSettings);
        result.ShouldHaveValidationErrorFor("Spec.TrafficPolicy.Tls.PrivateKey").WithErrorCode(RuleIds.DestinationRuleTlsSettings);
    }

    [Theory]
    [InlineData("mode: SIMPLE, insecureSkipVerify: true, caCertificates: /ca")]
    [InlineData("mode: MUTUAL, insecureSkipVerify: true, caCertificates: /ca, clientCertificate: /c, privateKey: /k")]
    public void Validate_InsecureSkipVerifyWithCa_ReportsEgw208(string tls)
    {
        _validator.TestValidate(TopLevel(tls)).ShouldHaveValidationErrorFor("Spec.TrafficPolicy.Tls.InsecureSkipVerify")
            .WithErrorCode(RuleIds.DestinationRuleTlsSettings);
    }

    [Theory]
    [InlineData("mode: SIMPLE")]
    [InlineData("mode: SIMPLE, credentialName: c")]
    [InlineData("mode: MUTUAL, credentialName: c")]
    [InlineData("mode: MUTUAL, clientCertificate: /c, privateKey: /k, caCertificates: /ca")]
    [InlineData("mode: SIMPLE, insecureSkipVerify: true")]
    [InlineData("mode: SIMPLE, insecureSkipVerify: false, caCertificates: /ca")]
    [InlineData("mode: ISTIO_MUTUAL")]
    [InlineData("mode: DISABLE, credentialName: c, caCertificates: /ca")]
    [InlineData("credentialName: c, caCertificates: /ca")]
    public void Validate_ConsistentTlsSettings_IsAccepted(string tls)
    {
        _validator.TestValidate(TopLevel(tls)).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void Validate_PortAndSubsetLevelSettings_AreChecked()
    {
        var dr = Yaml.DestinationRule("""
            host: edition.cnn.com
            trafficPolicy:
              portLevelSettings:
              - port: {number: 443}
                tls: {mode: MUTUAL, credentialName: c}
              - port: {number: 8443}
                tls: {mode: MUTUAL}
            subsets:
            - name: v1
              trafficPolicy:
                tls: {mode: SIMPLE, credentialName: c, privateKey: /k}
                portLevelSettings:
                - port: {number: 443}
                  tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /ca}
            """);

        var result = _validator.TestValidate(dr);

        result.ShouldNotHaveValidationErrorFor("Spec.TrafficPolicy.PortLevelSettings[0].Tls.ClientCertificate");
        result.ShouldHaveValidationErrorFor("Spec.TrafficPolicy.PortLevelSettings[1].Tls.ClientCertificate");
        result.ShouldHaveValidationErrorFor("Spec.Subsets[0].TrafficPolicy.Tls.CredentialName");
        result.ShouldHaveValidationErrorFor("Spec.Subsets[0].TrafficPolicy.PortLevelSettings[0].Tls.InsecureSkipVerify");
    }
}
