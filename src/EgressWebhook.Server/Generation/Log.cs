using EgressWebhook.Server.Logging;

namespace EgressWebhook.Server.Generation;

// event ids: EventIds.Generator (1400–1499)
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.Generator.StartedLeading, Level = LogLevel.Information, Message = "Generator: {Identity} leads (Lease {LeaseNamespace}/{LeaseName}); writing routing")]
    public static partial void StartedLeading(this ILogger logger, string identity, string leaseNamespace, string leaseName);

    [LoggerMessage(EventId = EventIds.Generator.StoppedLeading, Level = LogLevel.Information, Message = "Generator: {Identity} stopped leading; writes stopped")]
    public static partial void StoppedLeading(this ILogger logger, string identity);

    [LoggerMessage(EventId = EventIds.Generator.NewLeader, Level = LogLevel.Information, Message = "Generator: the leader is {Leader}")]
    public static partial void NewLeader(this ILogger logger, string leader);

    [LoggerMessage(EventId = EventIds.Generator.ElectionFailed, Level = LogLevel.Warning, Message = "Generator: leader election failed; retrying in {DelayMs} ms")]
    public static partial void ElectionFailed(this ILogger logger, long delayMs, Exception exception);

    [LoggerMessage(EventId = EventIds.Generator.Applied, Level = LogLevel.Information, Message = "Generator: applied {Kind} {Namespace}/{Name}")]
    public static partial void Applied(this ILogger logger, string kind, string @namespace, string name);

    [LoggerMessage(EventId = EventIds.Generator.Deleted, Level = LogLevel.Information, Message = "Generator: deleted {Kind} {Namespace}/{Name} (no longer planned)")]
    public static partial void Deleted(this ILogger logger, string kind, string @namespace, string name);

    [LoggerMessage(EventId = EventIds.Generator.WriteFailed, Level = LogLevel.Warning, Message = "Generator: {Operation} of {Kind} {Namespace}/{Name} failed: {Problem}")]
    public static partial void WriteFailed(this ILogger logger, string operation, string kind, string @namespace, string name, string problem, Exception exception);

    [LoggerMessage(EventId = EventIds.Generator.PassFailed, Level = LogLevel.Warning, Message = "Generator: {Failed} writes failed; retrying in {DelayMs} ms")]
    public static partial void PassFailed(this ILogger logger, int failed, long delayMs);

    [LoggerMessage(EventId = EventIds.Generator.PassCrashed, Level = LogLevel.Error, Message = "Generator: the pass failed before its writes; it is retried after a backoff")]
    public static partial void PassCrashed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.Generator.LeaseHttpError, Level = LogLevel.Debug, Message = "Generator: lease request failed: {Problem}")]
    public static partial void LeaseHttpError(this ILogger logger, string problem);

    [LoggerMessage(EventId = EventIds.Generator.Released, Level = LogLevel.Information, Message = "Generator: {Identity} released Lease {LeaseNamespace}/{LeaseName} on shutdown")]
    public static partial void Released(this ILogger logger, string identity, string leaseNamespace, string leaseName);

    [LoggerMessage(EventId = EventIds.Generator.ReleaseFailed, Level = LogLevel.Warning, Message = "Generator: releasing the Lease on shutdown failed; it expires on its own")]
    public static partial void ReleaseFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.Generator.LeaseRequestFailed, Level = LogLevel.Warning, Message = "Generator: the API server answered {StatusCode} on Lease {LeaseNamespace}/{LeaseName} (this replica cannot lead while it does): {Problem}")]
    public static partial void LeaseRequestFailed(this ILogger logger, int statusCode, string leaseNamespace, string leaseName, string problem);
}
