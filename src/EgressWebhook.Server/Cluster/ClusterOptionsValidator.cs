using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Cluster;

/// <summary>Rejects settings that would make the cache spin or never sync, with one message per bad key.</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var errors = new List<string>();
        if (options.ResyncMinutes < 0)
        {
            errors.Add($"Webhook:Cluster:ResyncMinutes must be 0 (off) or positive, not {options.ResyncMinutes}");
        }

        if (!(options.RediscoverSeconds == 0 || options.RediscoverSeconds is >= 1 and <= 86400))
        {
            errors.Add($"Webhook:Cluster:RediscoverSeconds must be 0 (only at start-up) or a period from 1 to 86400 seconds, not {options.RediscoverSeconds}");
        }

        if (!Enum.IsDefined(options.WhenNotSynced))
        {
            errors.Add("Webhook:Cluster:WhenNotSynced must be Deny or Allow");
        }

        if (string.IsNullOrWhiteSpace(options.MeshNamespace))
        {
            errors.Add("Webhook:Cluster:MeshNamespace must name a namespace");
        }

        if (options.DebounceMilliseconds < 0)
        {
            errors.Add("Webhook:Cluster:DebounceMilliseconds must not be negative");
        }

        if (options.WatchTimeoutSeconds < 1)
        {
            errors.Add("Webhook:Cluster:WatchTimeoutSeconds must be at least 1");
        }

        if (options.WatchGraceSeconds <= 0 || options.RequestTimeoutSeconds <= 0 || options.StaleAfterSeconds <= 0)
        {
            errors.Add("Webhook:Cluster:WatchGraceSeconds, RequestTimeoutSeconds and StaleAfterSeconds must be positive");
        }

        if (options.MinBackoffSeconds <= 0 || options.MaxBackoffSeconds < options.MinBackoffSeconds)
        {
            errors.Add("Webhook:Cluster:MinBackoffSeconds must be positive and at most MaxBackoffSeconds");
        }

        if (options.ListPageSize < 1)
        {
            errors.Add("Webhook:Cluster:ListPageSize must be at least 1");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
