using EgressWebhook.Core.Reports;
using EgressWebhook.Server.Generation;
using EgressWebhook.Server.Leadership;
using EgressWebhook.Server.Options;

namespace EgressWebhook.Server.Audit;

/// <summary>Settings of the background audit (section <c>Webhook:Audit</c>): on by default with
/// <c>Webhook:Source=Cluster</c> (<c>Webhook:Audit:Enabled=false</c> turns it off), off with the state directory. One
/// replica audits at a time: the holder of the Lease <see cref="LeaseName"/>.</summary>
internal sealed class BackgroundAuditOptions
{
    public const string SectionName = "Webhook:Audit";

    /// <summary>The field manager of the report writes (the generator's, so one ServiceAccount owns both).</summary>
    public const string FieldManager = "egress-webhook";

    /// <summary>The default of <see cref="Interval"/>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(5);

    /// <summary>The default of <see cref="Settle"/>.</summary>
    public static readonly TimeSpan DefaultSettle = TimeSpan.FromSeconds(10);

    /// <summary>Unset = on with the live-cluster source, off with the state directory; <c>false</c> = off;
    /// <c>true</c> = on (needs <c>Webhook:Source=Cluster</c>).</summary>
    public bool? Enabled { get; set; }

    /// <summary>How often the whole snapshot is checked and the PolicyReports written (<c>hh:mm:ss</c>) even without
    /// changes; unset = <see cref="DefaultInterval"/>. Setting it needs <c>Webhook:Source=Cluster</c>.</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>A pass also runs once the snapshot changed and then stayed unchanged for this long (at most one such pass
    /// per settle time, so steady churn gives a bounded rate); unset = <see cref="DefaultSettle"/>. At most
    /// <see cref="Interval"/>.</summary>
    public TimeSpan? Settle { get; set; }

    /// <summary>The bound on results per report (the summary still counts every finding).</summary>
    public int MaxResults { get; set; } = PolicyReport.DefaultMaxResults;

    /// <summary>The coordination.k8s.io Lease the replicas compete for (not the generator's: each has its own leader).</summary>
    public string LeaseName { get; set; } = "egress-webhook-audit";

    /// <summary>Namespace of the Lease; unset = env <c>POD_NAMESPACE</c>, else <c>egress-webhook</c>.</summary>
    public string? LeaseNamespace { get; set; }

    /// <summary>This replica's holder identity; unset = env <c>POD_NAME</c>, else the machine name with a random suffix.</summary>
    public string? Identity { get; set; }

    /// <summary>Lease timings, client-go's defaults as the generator's (15 s / 10 s / 2 s).</summary>
    public double LeaseDurationSeconds { get; set; } = 15;

    public double RenewDeadlineSeconds { get; set; } = 10;

    public double RetryPeriodSeconds { get; set; } = 2;

    public TimeSpan EffectiveInterval => Interval ?? DefaultInterval;

    public TimeSpan EffectiveSettle => Settle ?? DefaultSettle;

    /// <summary>The Lease namespace actually used.</summary>
    public string EffectiveLeaseNamespace =>
        !string.IsNullOrWhiteSpace(LeaseNamespace) ? LeaseNamespace
        : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } ns ? ns
        : "egress-webhook";

    /// <summary>Whether the audit runs with this webhook source.</summary>
    public bool IsActive(string source) => Enabled ?? source == WebhookOptions.ClusterSource;

    public LeaseSettings LeaseSettings() => new(EffectiveLeaseNamespace, LeaseName,
        string.IsNullOrWhiteSpace(Identity) ? GeneratorOptions.DefaultIdentity() : Identity,
        TimeSpan.FromSeconds(LeaseDurationSeconds), TimeSpan.FromSeconds(RenewDeadlineSeconds), TimeSpan.FromSeconds(RetryPeriodSeconds));
}
