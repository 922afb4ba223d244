using EgressWebhook.Server.Logging;

namespace EgressWebhook.Server.Leadership;

/// <summary>Source-generated log messages of <see cref="LeaderLease"/> (event ids: EventIds.Leadership, 1700–1799). Each
/// names the Lease's purpose (<c>Generator</c>, <c>Background audit</c>), so the two elections are told apart.</summary>
internal static partial class LeaderLeaseLog
{
    [LoggerMessage(EventId = EventIds.Leadership.StartedLeading, Level = LogLevel.Information, Message = "{Purpose}: {Identity} leads (Lease {LeaseNamespace}/{LeaseName})")]
    public static partial void StartedLeading(this ILogger logger, string purpose, string identity, string leaseNamespace, string leaseName);

    [LoggerMessage(EventId = EventIds.Leadership.StoppedLeading, Level = LogLevel.Information, Message = "{Purpose}: {Identity} stopped leading (Lease {LeaseName}); its work stopped")]
    public static partial void StoppedLeading(this ILogger logger, string purpose, string identity, string leaseName);

    [LoggerMessage(EventId = EventIds.Leadership.NewLeader, Level = LogLevel.Information, Message = "{Purpose}: the leader of Lease {LeaseName} is {Leader}")]
    public static partial void NewLeader(this ILogger logger, string purpose, string leaseName, string leader);

    [LoggerMessage(EventId = EventIds.Leadership.ElectionFailed, Level = LogLevel.Warning, Message = "{Purpose}: leader election on Lease {LeaseName} failed; retrying in {DelayMs} ms")]
    public static partial void ElectionFailed(this ILogger logger, string purpose, string leaseName, long delayMs, Exception exception);

    [LoggerMessage(EventId = EventIds.Leadership.LeaseHttpError, Level = LogLevel.Debug, Message = "{Purpose}: request on Lease {LeaseName} failed: {Problem}")]
    public static partial void LeaseHttpError(this ILogger logger, string purpose, string leaseName, string problem);

    [LoggerMessage(EventId = EventIds.Leadership.Released, Level = LogLevel.Information, Message = "{Purpose}: {Identity} released Lease {LeaseNamespace}/{LeaseName} on shutdown")]
    public static partial void Released(this ILogger logger, string purpose, string identity, string leaseNamespace, string leaseName);

    [LoggerMessage(EventId = EventIds.Leadership.ReleaseFailed, Level = LogLevel.Warning, Message = "{Purpose}: releasing Lease {LeaseName} on shutdown failed; it expires on its own")]
    public static partial void ReleaseFailed(this ILogger logger, string purpose, string leaseName, Exception exception);

    [LoggerMessage(EventId = EventIds.Leadership.LeaseRequestFailed, Level = LogLevel.Warning, Message = "{Purpose}: the API server answered {StatusCode} on Lease {LeaseNamespace}/{LeaseName} (this replica cannot lead while it does): {Problem}")]
    public static partial void LeaseRequestFailed(this ILogger logger, string purpose, int statusCode, string leaseNamespace, string leaseName, string problem);
}
