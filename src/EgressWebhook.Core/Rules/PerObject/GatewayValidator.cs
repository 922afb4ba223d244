using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using FluentValidation;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>Single-object checks of a Gateway: EGW205 (server ports) and EGW206 (server TLS settings).</summary>
/// <remarks>Follows Istio's Gateway validation. A server's protocol is required and compared case-insensitively;
/// an unset <c>tls.mode</c> is PASSTHROUGH. Port numbers may repeat across servers (several hosts on 443 is normal),
/// port names may not. A plain HTTP server may carry a <c>tls</c> block only for <c>httpsRedirect</c> (PASSTHROUGH
/// mode, no certificate files), as Istio allows; any other non-HTTPS/TLS server may not carry one. On a PASSTHROUGH
/// HTTPS/TLS server the gateway never terminates TLS, so certificate fields are silently ignored: a warning.</remarks>
internal sealed class GatewayValidator : AbstractValidator<Gateway>
{
    private const int MaxPort = 65535;

    public GatewayValidator()
    {
        RuleFor(gw => gw.Spec).Custom((spec, context) =>
        {
            var names = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < spec.Servers.Count; i++)
            {
                // a "~" list item decodes to null; it has nothing to check
                if (spec.Servers[i] is not { } server)
                {
                    continue;
                }

                CheckPort(server, i, names, context);
                CheckTls(server, i, context);
            }
        });
    }

    /// <summary>EGW205 for one server.</summary>
    private static void CheckPort(GatewayServer server, int i, Dictionary<string, int> names, ValidationContext<Gateway> context)
    {
        // a server without a port is left to Istio's own validation ("port is required"): it has no
        // number, name or protocol to compare, and analyzer fixtures use such servers as valid input
        if (server.Port is not { } port)
        {
            return;
        }

        // a server bound to a unix socket has no port number
        var unixBind = server.Bind?.StartsWith(IpAddresses.UnixPrefix, StringComparison.Ordinal) == true;
        if (port.Number is < 1 or > MaxPort && !(port.Number == 0 && unixBind))
        {
            if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Servers"))
            {
                context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Servers[{i}].Port.Number",
                    $"server port number {port.Number} is outside 1..{MaxPort}; use a valid port number"));
            }
        }

        if (!Protocols.IsKnown(port.Protocol))
        {
            var shown = string.IsNullOrEmpty(port.Protocol) ? "unset" : port.Protocol;
            if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Servers"))
            {
                context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Servers[{i}].Port.Protocol",
                    $"server port {port.Number} protocol {shown} is not an Istio protocol; use e.g. HTTP, HTTPS, TLS, TCP"));
            }
        }

        if (!string.IsNullOrEmpty(port.Name) && !names.TryAdd(port.Name, i))
        {
            if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Servers"))
            {
                context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Servers[{i}].Port.Name",
                    $"port name {port.Name} is used by servers[{names[port.Name]}] and servers[{i}]; give each server port a unique name"));
            }
        }
    }

    /// <summary>EGW206 for one server (only when its protocol is known, as Istio checks TLS after a valid port).</summary>
    private static void CheckTls(GatewayServer server, int i, ValidationContext<Gateway> context)
    {
        if (server.Port is not { } port || !Protocols.IsKnown(port.Protocol))
        {
            return;
        }

        var endpoint = $"{port.Protocol} server on port {port.Number}";
        var tls = server.Tls;
        if (Protocols.IsTls(port.Protocol))
        {
            if (tls is null)
            {
                if (Failures.Admits(context, RuleIds.GatewayServerTls, "Spec.Servers"))
                {
                    context.AddFailure(Failures.Error(RuleIds.GatewayServerTls, $"Spec.Servers[{i}].Tls",
                        $"{endpoint} has no tls block; add tls.mode (PASSTHROUGH, SIMPLE, MUTUAL or ISTIO_MUTUAL)"));
                }

                return;
            }

            CheckPassthroughFields(tls, i, endpoint, context);
            return;
        }

        if (tls is null)
        {
            return;
        }

        if (Protocols.IsHttp(port.Protocol))
        {
            // Istio: only tls.httpsRedirect is allowed on a plain HTTP server
            var files = FileFields(tls);
            if (!ServerTlsModes.IsPassthrough(tls.EffectiveMode) || files.Count > 0)
            {
                var what = files.Count > 0 ? "certificate files" : $"mode {tls.EffectiveMode}";
                if (Failures.Admits(context, RuleIds.GatewayServerTls, "Spec.Servers"))
                {
                    context.AddFailure(Failures.Error(RuleIds.GatewayServerTls, $"Spec.Servers[{i}].Tls",
                        $"plain {endpoint} has TLS settings ({what}); use protocol HTTPS, or keep only tls.httpsRedirect"));
                }
            }

            return;
        }

        if (Failures.Admits(context, RuleIds.GatewayServerTls, "Spec.Servers"))
        {
            context.AddFailure(Failures.Error(RuleIds.GatewayServerTls, $"Spec.Servers[{i}].Tls",
                $"{endpoint} cannot have a tls block (only HTTPS/TLS servers do); use protocol TLS or HTTPS, or remove tls"));
        }
    }

    /// <summary>EGW206 warnings: a PASSTHROUGH server never terminates TLS, so its certificates are ignored.</summary>
    private static void CheckPassthroughFields(ServerTlsSettings tls, int i, string endpoint, ValidationContext<Gateway> context)
    {
        if (!ServerTlsModes.IsPassthrough(tls.EffectiveMode))
        {
            return;
        }

        var hasCredential = !string.IsNullOrEmpty(tls.CredentialName) || tls.CredentialNames.Count > 0;
        if (string.IsNullOrEmpty(tls.Mode) && hasCredential)
        {
            var field = !string.IsNullOrEmpty(tls.CredentialName) ? "CredentialName" : "CredentialNames";
            if (Failures.Admits(context, RuleIds.GatewayServerTls, "Spec.Servers", FluentValidation.Severity.Warning))
            {
                context.AddFailure(Failures.Warning(RuleIds.GatewayServerTls, $"Spec.Servers[{i}].Tls.{field}",
                    $"{endpoint}: credentialName without tls.mode is ignored (mode defaults to PASSTHROUGH); set mode SIMPLE"));
            }

            return;
        }

        if (tls.HasCertificateFields)
        {
            var fields = FileFields(tls);
            if (hasCredential)
            {
                fields.Insert(0, "credentialName");
            }

            if (Failures.Admits(context, RuleIds.GatewayServerTls, "Spec.Servers", FluentValidation.Severity.Warning))
            {
                context.AddFailure(Failures.Warning(RuleIds.GatewayServerTls, $"Spec.Servers[{i}].Tls",
                    $"{tls.EffectiveMode} {endpoint} ignores {string.Join(", ", fields)}; set mode SIMPLE or MUTUAL, or remove them"));
            }
        }
    }

    private static List<string> FileFields(ServerTlsSettings tls)
    {
        var fields = new List<string>(3);
        if (!string.IsNullOrEmpty(tls.ServerCertificate))
        {
            fields.Add("serverCertificate");
        }

        if (!string.IsNullOrEmpty(tls.PrivateKey))
        {
            fields.Add("privateKey");
        }

        if (!string.IsNullOrEmpty(tls.CaCertificates))
        {
            fields.Add("caCertificates");
        }

        return fields;
    }
}
