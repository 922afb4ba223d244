using EgressWebhook.Server.Logging;
namespace EgressWebhook.Server.Audit;

/// <summary>Source-generated log messages of the background audit (event ids: EventIds.BackgroundAudit, 1600–1699).</summary>
internal static partial class BackgroundAuditLog
{
    [LoggerMessage(EventId = EventIds.BackgroundAudit.PassCompleted, Level = LogLevel.Information, Message = "Background audit: {Findings} findings; {Applied} reports applied, {Deleted} stale reports deleted, {Failed} writes failed")]
    public static partial void AuditPassed(this ILogger logger, int findings, int applied, int deleted, int failed);

    [LoggerMessage(EventId = EventIds.BackgroundAudit.ReportsNotServed, Level = LogLevel.Warning, Message = "Background audit: the API server does not serve wgpolicyk8s.io/v1alpha2 policyreports and clusterpolicyreports (install deploy/components/policy-reports); checking on, writing no reports")]
    public static partial void PolicyReportCrdMissing(this ILogger logger);

    [LoggerMessage(EventId = EventIds.BackgroundAudit.WriteFailed, Level = LogLevel.Warning, Message = "Background audit: writing {Kind} {Namespace}/{Name} failed: {Problem}")]
    public static partial void ReportWriteFailed(this ILogger logger, string kind, string @namespace, string name, string problem);

    [LoggerMessage(EventId = EventIds.BackgroundAudit.PassFailed, Level = LogLevel.Error, Message = "Background audit: the pass failed; the next runs after the interval or the next change")]
    public static partial void AuditPassFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.BackgroundAudit.IncompletenessPersists, Level = LogLevel.Warning, Message = "Background audit: {Object} is still incomplete after the grace period ({GraceSeconds} s): {Problem}")]
    public static partial void IncompletenessPersists(this ILogger logger, string @object, double graceSeconds, string problem);
}
