namespace EgressWebhook.Server.Leadership;

/// <summary>Where and how a <see cref="LeaderLease"/> competes: the coordination.k8s.io Lease, this replica's holder
/// identity and client-go's three durations.</summary>
internal sealed record LeaseSettings(string Namespace, string Name, string Identity, TimeSpan LeaseDuration, TimeSpan RenewDeadline, TimeSpan RetryPeriod)
{
    /// <summary>The one-line error for lease timings (in seconds, as the options give them) under which a leader could
    /// not renew before its lease runs out, as client-go requires: 0 &lt; retry &lt; renew deadline &lt; lease duration;
    /// null when they are sound.</summary>
    public static string? TimingError(string section, double retryPeriodSeconds, double renewDeadlineSeconds, double leaseDurationSeconds) =>
        retryPeriodSeconds > 0 && renewDeadlineSeconds > retryPeriodSeconds && leaseDurationSeconds > renewDeadlineSeconds
            ? null
            : $"{section} lease timings must satisfy 0 < RetryPeriodSeconds ({retryPeriodSeconds}) < RenewDeadlineSeconds ({renewDeadlineSeconds}) < LeaseDurationSeconds ({leaseDurationSeconds})";
}
