using EgressWebhook.Core.Reports;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Audit;

/// <summary>Settings of the background audit (section <c>Webhook:Audit</c>): off unless <see cref="Interval"/> is set.</summary>
internal sealed class BackgroundAuditOptions
{
    public const string SectionName = "Webhook:Audit";

    /// <summary>The field manager of the report writes (the generator's, so one ServiceAccount owns both).</summary>
    public const string FieldManager = "egress-webhook";

    /// <summary>How often the whole snapshot is checked and the PolicyReports written (<c>hh:mm:ss</c>); unset = no
    /// background audit. Needs <c>Webhook:Source=Cluster</c>.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>The bound on results per report (the summary still counts every finding).</summary>
    public int MaxResults { get; set; } = PolicyReport.DefaultMaxResults;
}

/// <summary>An interval is at least one second and needs the live-cluster source (the reports are written to it).</summary>
internal sealed class BackgroundAuditOptionsValidator(IOptions<WebhookOptions> webhook) : IValidateOptions<BackgroundAuditOptions>
{
    public ValidateOptionsResult Validate(string? name, BackgroundAuditOptions options)
    {
        var errors = new List<string>();
        if (options.MaxResults is < 1 or > 100_000)
        {
            errors.Add($"Webhook:Audit:MaxResults {options.MaxResults} must be from 1 to 100000");
        }

        if (options.Interval is { } interval)
        {
            if (interval < TimeSpan.FromSeconds(1))
            {
                errors.Add($"Webhook:Audit:Interval {interval} must be at least 00:00:01");
            }

            if (webhook.Value.Source != WebhookOptions.ClusterSource)
            {
                errors.Add($"Webhook:Audit:Interval requires Webhook:Source={WebhookOptions.ClusterSource} (the reports are written to the live cluster), not '{webhook.Value.Source}'");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
