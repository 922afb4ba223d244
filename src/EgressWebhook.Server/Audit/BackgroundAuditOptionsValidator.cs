using EgressWebhook.Server.Leadership;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Audit;

/// <summary>Explicitly turning the audit on (or setting its interval) needs the live-cluster source, where the reports are
/// written; the interval is at least one second, the settle time from 0.1 s up to the interval; lease timings as the
/// generator's.</summary>
internal sealed class BackgroundAuditOptionsValidator(IOptions<WebhookOptions> webhook) : IValidateOptions<BackgroundAuditOptions>
{
    public ValidateOptionsResult Validate(string? name, BackgroundAuditOptions options)
    {
        var errors = new List<string>();
        if (options.MaxResults is < 1 or > 100_000)
        {
            errors.Add($"Webhook:Audit:MaxResults {options.MaxResults} must be from 1 to 100000");
        }

        var cluster = webhook.Value.Source == WebhookOptions.ClusterSource;
        if (options.Enabled == false)
        {
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }

        if (options.Enabled == true && !cluster)
        {
            errors.Add($"Webhook:Audit:Enabled=true requires Webhook:Source={WebhookOptions.ClusterSource} (the reports are written to the live cluster), not '{webhook.Value.Source}'");
        }

        if (options.Interval is { } interval)
        {
            if (interval < TimeSpan.FromSeconds(1))
            {
                errors.Add($"Webhook:Audit:Interval {interval} must be at least 00:00:01");
            }

            if (!cluster)
            {
                errors.Add($"Webhook:Audit:Interval requires Webhook:Source={WebhookOptions.ClusterSource} (the reports are written to the live cluster), not '{webhook.Value.Source}'");
            }
        }

        if (options.Settle is { } settle && (settle < TimeSpan.FromMilliseconds(100) || settle > options.EffectiveInterval))
        {
            errors.Add($"Webhook:Audit:Settle {settle} must be from 00:00:00.1 up to Webhook:Audit:Interval ({options.EffectiveInterval})");
        }

        if (string.IsNullOrWhiteSpace(options.LeaseName))
        {
            errors.Add("Webhook:Audit:LeaseName must name a Lease");
        }

        if (LeaseSettings.TimingError("Webhook:Audit", options.RetryPeriodSeconds, options.RenewDeadlineSeconds, options.LeaseDurationSeconds) is { } timing)
        {
            errors.Add(timing);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
