using EgressWebhook.Server.Logging;

namespace EgressWebhook.Server.Cluster;

// event ids: EventIds.Cluster (1300–1399)
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.Cluster.Listed, Level = LogLevel.Information, Message = "Listed {Kind}: {Count} objects at resourceVersion {ResourceVersion} ({Reason})")]
    public static partial void Listed(this ILogger logger, string kind, int count, string resourceVersion, string reason);

    [LoggerMessage(EventId = EventIds.Cluster.WatchFailed, Level = LogLevel.Warning, Message = "Watch of {Kind} failed ({Reason}); retrying from resourceVersion {ResourceVersion} in {DelayMs} ms")]
    public static partial void WatchFailed(this ILogger logger, string kind, string reason, string? resourceVersion, long delayMs, Exception exception);

    [LoggerMessage(EventId = EventIds.Cluster.WatchGone, Level = LogLevel.Information, Message = "Watch of {Kind} expired (410 Gone) at resourceVersion {ResourceVersion}; re-listing")]
    public static partial void WatchGone(this ILogger logger, string kind, string? resourceVersion);

    [LoggerMessage(EventId = EventIds.Cluster.Undecodable, Level = LogLevel.Warning, Message = "Skipped {Kind} {Namespace}/{Name}: {Problem}")]
    public static partial void Undecodable(this ILogger logger, string kind, string @namespace, string name, string problem);

    [LoggerMessage(EventId = EventIds.Cluster.Synced, Level = LogLevel.Information, Message = "Cluster cache synced: {Count} objects, ready after {ElapsedMs} ms")]
    public static partial void Synced(this ILogger logger, int count, long elapsedMs);

    [LoggerMessage(EventId = EventIds.Cluster.IstioVersion, Level = LogLevel.Information, Message = "Using networking.istio.io/{Version} (served: {Served})")]
    public static partial void IstioVersion(this ILogger logger, string version, string served);

    [LoggerMessage(EventId = EventIds.Cluster.IstioNotServed, Level = LogLevel.Warning, Message = "networking.istio.io is not served by the API server (served versions: {Served}); retrying in {DelayMs} ms")]
    public static partial void IstioNotServed(this ILogger logger, string served, long delayMs);

    [LoggerMessage(EventId = EventIds.Cluster.DiscoveryFailed, Level = LogLevel.Warning, Message = "API discovery failed; retrying in {DelayMs} ms")]
    public static partial void DiscoveryFailed(this ILogger logger, long delayMs, Exception exception);

    [LoggerMessage(EventId = EventIds.Cluster.WatchPastDeadline, Level = LogLevel.Warning, Message = "Watch of {Kind} still open {DeadlineSeconds} s after it started, past the timeout the server was asked for: connection presumed dead; resuming from resourceVersion {ResourceVersion}")]
    public static partial void WatchPastDeadline(this ILogger logger, string kind, double deadlineSeconds, string? resourceVersion);

    [LoggerMessage(EventId = EventIds.Cluster.FreshReadFound, Level = LogLevel.Information, Message = "Fresh read found {Count} objects the cache lacked or held at another version ({Kinds})")]
    public static partial void FreshReadFound(this ILogger logger, int count, string kinds);

    [LoggerMessage(EventId = EventIds.Cluster.FreshReadFailed, Level = LogLevel.Warning, Message = "Fresh read failed; deciding on the cached view")]
    public static partial void FreshReadFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.Cluster.PublishFailed, Level = LogLevel.Error, Message = "Building the cluster snapshot failed; the previous snapshot stays published")]
    public static partial void PublishFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.Cluster.ListFailed, Level = LogLevel.Warning, Message = "List of {Kind} failed; retrying in {DelayMs} ms")]
    public static partial void ListFailed(this ILogger logger, string kind, long delayMs, Exception exception);

    [LoggerMessage(EventId = EventIds.Cluster.OptionalKinds, Level = LogLevel.Information, Message = "Optional kinds of {Group} watched: {Kinds}")]
    public static partial void OptionalKinds(this ILogger logger, string group, string kinds);

    [LoggerMessage(EventId = EventIds.Cluster.OptionalKindStarted, Level = LogLevel.Information, Message = "{Kind} {ApiVersion} is now served (its CRD was installed, or this version added); watching it, in the snapshot after its first list")]
    public static partial void OptionalKindStarted(this ILogger logger, string kind, string apiVersion);

    [LoggerMessage(EventId = EventIds.Cluster.OptionalKindStopped, Level = LogLevel.Warning, Message = "{Kind} {ApiVersion} is no longer served (its CRD was deleted, or no version we know is served any more); stopped watching it, its {Count} cached objects leave the snapshot")]
    public static partial void OptionalKindStopped(this ILogger logger, string kind, string apiVersion, int count);

    [LoggerMessage(EventId = EventIds.Cluster.OptionalKindReplacing, Level = LogLevel.Information, Message = "{Kind} is now served at {NewApiVersion}, preferred to {ApiVersion}; keeping the old version watched and in the snapshot until the new one has listed")]
    public static partial void OptionalKindReplacing(this ILogger logger, string kind, string apiVersion, string newApiVersion);

    [LoggerMessage(EventId = EventIds.Cluster.OptionalKindReplaced, Level = LogLevel.Information, Message = "{Kind} {NewApiVersion} has listed {NewCount} objects and replaces {ApiVersion} ({Count} cached objects) in the snapshot; stopped watching the old version")]
    public static partial void OptionalKindReplaced(this ILogger logger, string kind, string apiVersion, int count, string newApiVersion, int newCount);

    [LoggerMessage(EventId = EventIds.Cluster.RediscoveryFailed, Level = LogLevel.Warning, Message = "Re-discovery of the optional kinds failed; keeping the {Count} optional kinds watched until the next attempt")]
    public static partial void RediscoveryFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = EventIds.Cluster.OptionalKindFailed, Level = LogLevel.Error, Message = "The informer of {Kind} {ApiVersion} failed; it leaves the snapshot and is started again by the next re-discovery")]
    public static partial void OptionalKindFailed(this ILogger logger, string kind, string apiVersion, Exception exception);
}
