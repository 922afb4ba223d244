using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using FluentValidation;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>Single-object checks of a DestinationRule: EGW208 (client TLS settings that Istio rejects), at the
/// top level, per port, and per subset (and a subset's ports).</summary>
/// <remarks>For SIMPLE and MUTUAL origination: <c>credentialName</c> takes the certificates from a secret, so the
/// file fields may not be set with it; MUTUAL without <c>credentialName</c> needs <c>clientCertificate</c> and
/// <c>privateKey</c> (the proxy has no client identity otherwise); <c>insecureSkipVerify</c> contradicts
/// <c>caCertificates</c>. An unset mode is DISABLE; unknown modes are not checked.</remarks>
internal sealed class DestinationRuleValidator : AbstractValidator<DestinationRule>
{
    public DestinationRuleValidator()
    {
        RuleFor(dr => dr.Spec).Custom((spec, context) =>
        {
            foreach (var block in DestinationRuleTls.Blocks(spec))
            {
                Check(spec.Host, ToPropertyPath(block.Path), block.Tls, context);
            }
        });
    }

    private static void Check(string host, string path, ClientTlsSettings tls, ValidationContext<DestinationRule> context)
    {
        var mode = tls.EffectiveMode;
        if (!ClientTlsModes.Originates(mode))
        {
            return;
        }

        var target = $"{mode} TLS to {host}";
        if (!string.IsNullOrEmpty(tls.CredentialName))
        {
            var files = new List<string>(3);
            AddIfSet(files, "clientCertificate", tls.ClientCertificate);
            AddIfSet(files, "privateKey", tls.PrivateKey);
            AddIfSet(files, "caCertificates", tls.CaCertificates);
            if (files.Count > 0)
            {
                context.AddFailure(Failures.Error(RuleIds.DestinationRuleTlsSettings, $"{path}.CredentialName",
                    $"{target} sets credentialName and {string.Join(", ", files)}; use the secret or the files, not both"));
            }
        }
        else if (mode == ClientTlsModes.Mutual)
        {
            if (string.IsNullOrEmpty(tls.ClientCertificate))
            {
                context.AddFailure(Failures.Error(RuleIds.DestinationRuleTlsSettings, $"{path}.ClientCertificate",
                    $"{target} has neither clientCertificate nor credentialName; set one of them"));
            }

            if (string.IsNullOrEmpty(tls.PrivateKey))
            {
                context.AddFailure(Failures.Error(RuleIds.DestinationRuleTlsSettings, $"{path}.PrivateKey",
                    $"{target} has neither privateKey nor credentialName; set one of them"));
            }
        }

        if (tls.InsecureSkipVerify == true && !string.IsNullOrEmpty(tls.CaCertificates))
        {
            context.AddFailure(Failures.Error(RuleIds.DestinationRuleTlsSettings, $"{path}.InsecureSkipVerify",
                $"{target} sets insecureSkipVerify and caCertificates; either verify with the CA or skip, not both"));
        }
    }

    private static void AddIfSet(List<string> fields, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            fields.Add(name);
        }
    }

    /// <summary><c>spec.trafficPolicy.tls</c> → <c>Spec.TrafficPolicy.Tls</c>: FluentValidation property-path form.</summary>
    private static string ToPropertyPath(string path) =>
        string.Join('.', path.Split('.').Select(s => char.ToUpperInvariant(s[0]) + s[1..]));
}
