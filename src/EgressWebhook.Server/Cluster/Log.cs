
namespace EgressWebhook.Server.Cluster;

// 1300–1399: live-cluster cache
internal static partial class Log
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Listed {Kind}: {Count} objects at resourceVersion {ResourceVersion} ({Reason})")]
    public static partial void Listed(this ILogger logger, string kind, int count, string resourceVersion, string reason);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Watch of {Kind} failed ({Reason}); retrying from resourceVersion {ResourceVersion} in {DelayMs} ms")]
    public static partial void WatchFailed(this ILogger logger, string kind, string reason, string? resourceVersion, long delayMs, Exception exception);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Watch of {Kind} expired (410 Gone) at resourceVersion {ResourceVersion}; re-listing")]
    public static partial void WatchGone(this ILogger logger, string kind, string? resourceVersion);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Skipped {Kind} {Namespace}/{Name}: {Problem}")]
    public static partial void Undecodable(this ILogger logger, string kind, string @namespace, string name, string problem);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Cluster cache synced: {Count} objects, ready after {ElapsedMs} ms")]
    public static partial void Synced(this ILogger logger, int count, long elapsedMs);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Information, Message = "Using networking.istio.io/{Version} (served: {Served})")]
    public static partial void IstioVersion(this ILogger logger, string version, string served);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "networking.istio.io is not served by the API server (served versions: {Served}); retrying in {DelayMs} ms")]
    public static partial void IstioNotServed(this ILogger logger, string served, long delayMs);

    [LoggerMessage(EventId = 1307, Level = LogLevel.Warning, Message = "API discovery failed; retrying in {DelayMs} ms")]
    public static partial void DiscoveryFailed(this ILogger logger, long delayMs, Exception exception);

    [LoggerMessage(EventId = 1308, Level = LogLevel.Warning, Message = "Watch of {Kind} still open {DeadlineSeconds} s after it started, past the timeout the server was asked for: connection presumed dead; resuming from resourceVersion {ResourceVersion}")]
    public static partial void WatchPastDeadline(this ILogger logger, string kind, double deadlineSeconds, string? resourceVersion);

    [LoggerMessage(EventId = 1309, Level = LogLevel.Information, Message = "Fresh read found {Count} objects the cache lacked or held at another version ({Kinds})")]
    public static partial void FreshReadFound(this ILogger logger, int count, string kinds);

    [LoggerMessage(EventId = 1310, Level = LogLevel.Warning, Message = "Fresh read failed; deciding on the cached view")]
    public static partial void FreshReadFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Error, Message = "Building the cluster snapshot failed; the previous snapshot stays published")]
    public static partial void PublishFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Warning, Message = "List of {Kind} failed; retrying in {DelayMs} ms")]
    public static partial void ListFailed(this ILogger logger, string kind, long delayMs, Exception exception);

    [LoggerMessage(EventId = 1313, Level = LogLevel.Information, Message = "Optional kinds of {Group} watched: {Kinds}")]
    public static partial void OptionalKinds(this ILogger logger, string group, string kinds);
}
