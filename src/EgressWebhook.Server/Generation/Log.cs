using EgressWebhook.Server.Logging;

namespace EgressWebhook.Server.Generation;

// event ids: EventIds.Generator (1400–1499)
internal static partial class Log
{
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
}
