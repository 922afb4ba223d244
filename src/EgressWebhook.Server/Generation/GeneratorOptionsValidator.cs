using EgressWebhook.Server.Leadership;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Generation;

/// <summary>The generator writes to the cluster, so it needs the live-cluster source; the lease timings must let a
/// leader renew before its lease runs out.</summary>
internal sealed class GeneratorOptionsValidator(IOptions<WebhookOptions> webhook) : IValidateOptions<GeneratorOptions>
{
    public ValidateOptionsResult Validate(string? name, GeneratorOptions options)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ServiceAccount) && GeneratorOptions.ServiceAccountUser(options.ServiceAccount.Trim()) is null)
        {
            errors.Add($"Webhook:Generator:ServiceAccount '{options.ServiceAccount}' must be NAMESPACE/NAME or system:serviceaccount:NAMESPACE:NAME");
        }

        if (!options.Enabled)
        {
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }

        if (webhook.Value.Source != WebhookOptions.ClusterSource)
        {
            errors.Add($"Webhook:Generator:Enabled=true requires Webhook:Source={WebhookOptions.ClusterSource} (the generator writes to the live cluster), not '{webhook.Value.Source}'");
        }

        if (string.IsNullOrWhiteSpace(options.LeaseName))
        {
            errors.Add("Webhook:Generator:LeaseName must name a Lease");
        }

        if (LeaseSettings.TimingError("Webhook:Generator", options.RetryPeriodSeconds, options.RenewDeadlineSeconds, options.LeaseDurationSeconds) is { } timing)
        {
            errors.Add(timing);
        }

        if (options.ResyncSeconds <= 0)
        {
            errors.Add($"Webhook:Generator:ResyncSeconds {options.ResyncSeconds} must be positive");
        }

        if (options.MinBackoffSeconds <= 0 || options.MaxBackoffSeconds < options.MinBackoffSeconds)
        {
            errors.Add("Webhook:Generator:MinBackoffSeconds must be positive and at most MaxBackoffSeconds");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
