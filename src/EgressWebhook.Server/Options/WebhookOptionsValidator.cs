using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Options;

/// <summary>Startup checks with messages that name the setting and the accepted values.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        // the typed settings (enforcement, failure mode, grace period, health port, rules) were parsed once, when bound
        var errors = new List<string>(options.BindFailures);
        if (options.Source is not (WebhookOptions.StateSource or WebhookOptions.ClusterSource))
        {
            errors.Add($"Webhook:Source '{options.Source}' must be {WebhookOptions.StateSource} or {WebhookOptions.ClusterSource}");
        }

        if (options.Source == WebhookOptions.StateSource)
        {
            if (string.IsNullOrWhiteSpace(options.StateDirectory))
            {
                errors.Add("Webhook:StateDirectory (--state DIR) is required when Webhook:Source=State");
            }
            else if (!Directory.Exists(options.StateDirectory))
            {
                errors.Add($"Webhook:StateDirectory '{options.StateDirectory}' is not a directory (resolved to {Path.GetFullPath(options.StateDirectory)})");
            }
        }

        if (options.StatePollSeconds is <= 0 or > 3600)
        {
            errors.Add($"Webhook:StatePollSeconds {options.StatePollSeconds} must be between 0 and 3600");
        }

        if (options.OutboundPolicy is { Length: > 0 } policy && OutboundPolicies.Parse(policy) is null)
        {
            errors.Add($"Webhook:OutboundPolicy '{policy}' must be {OutboundPolicies.AllowAny} or {OutboundPolicies.RegistryOnly}");
        }

        if (options.MaxPendingRechecks is < 1 or > 1_000_000)
        {
            errors.Add($"Webhook:MaxPendingRechecks {options.MaxPendingRechecks} must be between 1 and 1000000");
        }

        if (string.IsNullOrWhiteSpace(options.AuditLog))
        {
            errors.Add("Webhook:AuditLog must be stdout, off or a file path");
        }
        else if (options.AuditLog is not ("stdout" or "off") && Path.GetDirectoryName(Path.GetFullPath(options.AuditLog)) is { } dir && !Directory.Exists(dir))
        {
            errors.Add($"Webhook:AuditLog '{options.AuditLog}': directory {dir} does not exist");
        }

        if (options.HealthPort is < 0 or > 65535)
        {
            errors.Add($"Webhook:HealthPort {options.HealthPort} must be a port number, or 0 to serve health on the main endpoint only");
        }

        if (!System.Net.IPAddress.TryParse(options.HealthAddress, out _))
        {
            errors.Add($"Webhook:HealthAddress '{options.HealthAddress}' must be an IP address (0.0.0.0 for every interface, 127.0.0.1 for loopback only)");
        }

        if (options.Mutation.DefaultGateway is { } gateway && !string.IsNullOrWhiteSpace(gateway) && RoutingOptIn.Parse(gateway.Trim(), '/') is null)
        {
            errors.Add($"Webhook:Mutation:DefaultGateway '{gateway}' must be <namespace>/<gateway Service>, e.g. istio-system/istio-egressgateway");
        }

        if (options.ShutdownDelaySeconds is < 0 or > 120)
        {
            errors.Add($"Webhook:ShutdownDelaySeconds {options.ShutdownDelaySeconds} must be between 0 and 120");
        }

        if (options.ShutdownTimeoutSeconds <= options.ShutdownDelaySeconds || options.ShutdownTimeoutSeconds > 600)
        {
            errors.Add($"Webhook:ShutdownTimeoutSeconds {options.ShutdownTimeoutSeconds} must be above Webhook:ShutdownDelaySeconds ({options.ShutdownDelaySeconds}) and at most 600");
        }

        ValidateLimits(options.Limits, errors);
        ValidateTls(options.Tls, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateLimits(LimitsOptions limits, List<string> errors)
    {
        void Range(string name, double value, double min, double max)
        {
            if (double.IsNaN(value) || value < min || value > max)
            {
                errors.Add($"Webhook:Limits:{name} {value} must be between {min} and {max}");
            }
        }

        Range(nameof(limits.MaxConnections), limits.MaxConnections, 1, 1_000_000);
        Range(nameof(limits.KeepAliveSeconds), limits.KeepAliveSeconds, 1, 3600);
        Range(nameof(limits.HandshakeTimeoutSeconds), limits.HandshakeTimeoutSeconds, 1, 120);
        Range(nameof(limits.RequestHeadersTimeoutSeconds), limits.RequestHeadersTimeoutSeconds, 1, 120);
        Range(nameof(limits.MinRequestBodyBytesPerSecond), limits.MinRequestBodyBytesPerSecond, 1, 1 << 30);
        Range(nameof(limits.MinDataRateGraceSeconds), limits.MinDataRateGraceSeconds, 1, 120);
        Range(nameof(limits.MaxRequestHeadersBytes), limits.MaxRequestHeadersBytes, 1024, 1 << 20);
        Range(nameof(limits.MaxRequestHeaderCount), limits.MaxRequestHeaderCount, 8, 1000);
        Range(nameof(limits.Http2MaxStreamsPerConnection), limits.Http2MaxStreamsPerConnection, 1, 10_000);
        Range(nameof(limits.MaxRequestBufferBytes), limits.MaxRequestBufferBytes, 65535, 1 << 26);
        Range(nameof(limits.LargeReviewBytes), limits.LargeReviewBytes, 4096, Endpoints.AdmissionBody.MaxBytes);
        Range(nameof(limits.LargeReviewBytesInFlight), limits.LargeReviewBytesInFlight, Endpoints.AdmissionBody.MaxBytes, 1L << 32);
    }

    private static void ValidateTls(TlsOptions tls, List<string> errors)
    {
        if (tls.RequireClientCertificate == true && string.IsNullOrWhiteSpace(tls.ClientCaFile))
        {
            errors.Add("Webhook:Tls:RequireClientCertificate=true requires Webhook:Tls:ClientCaFile (the CA bundle that signed the API server's client certificate)");
        }

        var cert = !string.IsNullOrWhiteSpace(tls.CertificateFile);
        var key = !string.IsNullOrWhiteSpace(tls.KeyFile);
        if (cert != key)
        {
            errors.Add("Webhook:Tls:CertificateFile and Webhook:Tls:KeyFile must be set together");
        }

        foreach (var (setting, path) in new[] { ("CertificateFile", tls.CertificateFile), ("KeyFile", tls.KeyFile), ("ClientCaFile", tls.ClientCaFile) })
        {
            if (!string.IsNullOrWhiteSpace(path) && !File.Exists(path))
            {
                errors.Add($"Webhook:Tls:{setting} '{path}' does not exist");
            }
        }

        if (tls.ReloadSeconds is <= 0 or > 3600)
        {
            errors.Add($"Webhook:Tls:ReloadSeconds {tls.ReloadSeconds} must be between 0 and 3600");
        }
    }
}
