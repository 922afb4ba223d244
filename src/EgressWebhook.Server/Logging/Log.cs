using System.Security.Cryptography.X509Certificates;

namespace EgressWebhook.Server.Logging;

/// <summary>Source-generated log messages. Event ids: 1000–1099 admission, 1100–1199 startup and state, 1200–1299 TLS, 1300–1399 audit (1400–1499 the generator, 1500–1599 the background audit, in their folders).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Admission {Uid} {Endpoint} {Operation} {Kind} {Namespace}/{Name}: {Decision} ({Rules}) in {LatencyMs:F2} ms")]
    public static partial void AdmissionDecided(this ILogger logger, string uid, string endpoint, string? operation, string? kind, string? @namespace, string? name, string decision, IReadOnlyList<string> rules, double latencyMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Bad admission request on {Endpoint}: HTTP {StatusCode} {Reason}")]
    public static partial void BadRequest(this ILogger logger, string endpoint, int statusCode, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Admission {Uid} could not be decided; failure mode {FailureMode} applies")]
    public static partial void AdmissionFailed(this ILogger logger, string uid, string failureMode, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Admission {Uid}: fresh read after a denial on {Rules}; re-decided: allowed={Allowed}")]
    public static partial void FreshReadRedecided(this ILogger logger, string uid, IReadOnlyList<string> rules, bool allowed);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Admission {Uid}: fresh read failed, keeping the cached decision")]
    public static partial void FreshReadFailed(this ILogger logger, string uid, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Admission {Uid} was decided after its deadline or after the client left ({ElapsedMs:F0} ms)")]
    public static partial void DeadlinePassed(this ILogger logger, string uid, double elapsedMs);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Admission request on {Endpoint} aborted by the client")]
    public static partial void RequestAborted(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Snapshot loaded from {Directory}: {Objects} objects from {Files} files")]
    public static partial void StateLoaded(this ILogger logger, string directory, int objects, int files);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "State file {File} is invalid, keeping the last good snapshot ({Objects} objects): {Reason}")]
    public static partial void StateFileInvalid(this ILogger logger, string file, int objects, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "State directory {Directory} cannot be read, keeping the last good snapshot: {Reason}")]
    public static partial void StateDirectoryUnreadable(this ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Watching {Directory} for changes failed; polling every {Seconds} s only")]
    public static partial void StateWatchFailed(this ILogger logger, string directory, double seconds, Exception exception);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Egress webhook listening on {Urls}; state source {Source}; failure mode {FailureMode}")]
    public static partial void Started(this ILogger logger, IEnumerable<string> urls, string source, string failureMode);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Shutting down: /readyz answers 503; serving for {Seconds} s more, then finishing the requests in flight")]
    public static partial void Draining(this ILogger logger, double seconds);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "No TLS certificate configured: using an in-memory self-signed certificate for localhost, for development only")]
    public static partial void SelfSignedCertificate(this ILogger logger);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "TLS certificate loaded from {File}: subject {Subject}, expires {NotAfter:o}, thumbprint {Thumbprint}")]
    public static partial void CertificateLoaded(this ILogger logger, string file, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "TLS certificate files changed but cannot be loaded yet, keeping the current certificate: {Reason}")]
    public static partial void CertificateReloadFailed(this ILogger logger, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Client certificates required, verified against {File} ({Count} CA certificates)")]
    public static partial void ClientCaLoaded(this ILogger logger, string file, int count);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Debug, Message = "Client certificate {Subject} rejected: {Reason}")]
    public static partial void ClientCertificateRejected(this ILogger logger, string subject, IEnumerable<X509ChainStatus> reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Egress chain of {Object} (admission {Uid}) still incomplete after the grace period of {Seconds} s: {Message}")]
    public static partial void ChainIncomplete(this ILogger logger, string @object, string uid, double seconds, string message);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Debug, Message = "Egress chain of {Object} (admission {Uid}) completed within the grace period")]
    public static partial void ChainCompleted(this ILogger logger, string @object, string uid);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Error, Message = "Re-check of {Object} after the grace period failed")]
    public static partial void RecheckFailed(this ILogger logger, string @object, Exception exception);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Event for the incomplete egress chain of {Object} could not be written: {Reason}")]
    public static partial void EventWriteFailed(this ILogger logger, string @object, string reason);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Re-check of {Object} (admission {Uid}) dropped: Webhook:MaxPendingRechecks ({Max}) re-checks are pending")]
    public static partial void RecheckDropped(this ILogger logger, string @object, string uid, int max);

    [LoggerMessage(EventId = 1300, Level = LogLevel.Error, Message = "Writing the audit log failed")]
    public static partial void AuditWriteFailed(this ILogger logger, Exception exception);
}
