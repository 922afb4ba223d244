using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW111: a DestinationRule originates TLS (SIMPLE or MUTUAL) without <c>caCertificates</c>, so the
/// proxy does not verify the server's certificate (Istio IST0128 top level, IST0129 port level).</summary>
/// <remarks>Checked at the top level, per port and per subset. A <c>credentialName</c> on a DestinationRule with a
/// <c>workloadSelector</c> may carry the CA in its secret (<c>ca.crt</c>), so that combination is not reported,
/// as in Istio. Needs no other object: the rule reads the DestinationRule alone.</remarks>
internal sealed class Egw111TlsOriginationWithoutCa : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.TlsOriginationWithoutCa];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.DestinationRule;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not DestinationRule dr)
        {
            return;
        }

        foreach (var block in DestinationRuleTls.Blocks(dr.Spec))
        {
            var tls = block.Tls;
            var mode = tls.EffectiveMode;
            if (!ClientTlsModes.Originates(mode) || !string.IsNullOrEmpty(tls.CaCertificates) ||
                (!string.IsNullOrEmpty(tls.CredentialName) && dr.Spec.WorkloadSelector is not null))
            {
                continue;
            }

            // the path names the subset, if any; the headline stays short
            var where = block.Port is { } port ? $"{dr.Spec.Host}:{port}" : dr.Spec.Host;
            context.Report(RuleIds.TlsOriginationWithoutCa, Severity.Warning, dr, block.Path,
                $"{mode} TLS to {where} without caCertificates: server certificate unverified; set caCertificates");
        }
    }
}
