using System.Security.Cryptography.X509Certificates;

namespace EgressWebhook.Server.Logging;

/// <summary>Source-generated log messages of the shell; the event ids are in <see cref="EventIds"/>.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.Admission.AdmissionDecided, Level = LogLevel.Debug, Message = "Admission {Uid} {Endpoint} {Operation} {Kind} {Namespace}/{Name}: {Decision} ({Rules}) in {LatencyMs:F2} ms")]
    public static partial void AdmissionDecided(this ILogger logger, string uid, string endpoint, string? operation, string? kind, string? @namespace, string? name, string decision, IReadOnlyList<string> rules, double latencyMs);

    [LoggerMessage(EventId = EventIds.Admission.BadRequest, Level = LogLevel.Debug, Message = "Bad admission request on {Endpoint}: HTTP {StatusCode} {Reason}")]
    public static partial void BadRequest(this ILogger logger, string endpoint, int statusCode, string reason);

    [LoggerMessage(EventId = EventIds.Admission.AdmissionFailed, Level = LogLevel.Error, Message = "Admission {Uid} could not be decided; failure mode {FailureMode} applies")]
    public static partial void AdmissionFailed(this ILogger logger, string uid, string failureMode, Exception exception);

    [LoggerMessage(EventId = EventIds.Admission.FreshReadRedecided, Level = LogLevel.Information, Message = "Admission {Uid}: fresh read after a denial on {Rules}; re-decided: allowed={Allowed}")]
    public static partial void FreshReadRedecided(this ILogger logger, string uid, IReadOnlyList<string> rules, bool allowed);

    [LoggerMessage(EventId = EventIds.Admission.FreshReadFailed, Level = LogLevel.Warning, Message = "Admission {Uid}: fresh read failed, keeping the cached decision")]
    public static partial void FreshReadFailed(this ILogger logger, string uid, Exception exception);

    [LoggerMessage(EventId = EventIds.Admission.DeadlinePassed, Level = LogLevel.Warning, Message = "Admission {Uid} was decided after its deadline or after the client left ({ElapsedMs:F0} ms)")]
    public static partial void DeadlinePassed(this ILogger logger, string uid, double elapsedMs);

    [LoggerMessage(EventId = EventIds.Admission.LargeReviewWaited, Level = LogLevel.Warning, Message = "Admission {Uid} ({Bytes} bytes) not decided: its deadline passed while {InFlight} bytes of large reviews were being decided (Webhook:Limits:LargeReviewBytesInFlight)")]
    public static partial void LargeReviewWaited(this ILogger logger, string uid, long bytes, long inFlight);

    [LoggerMessage(EventId = EventIds.Admission.OutOfMemory, Level = LogLevel.Error, Message = "Admission request on {Endpoint} refused with 503: out of memory while reading it")]
    public static partial void OutOfMemory(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = EventIds.Admission.RequestAborted, Level = LogLevel.Debug, Message = "Admission request on {Endpoint} aborted by the client")]
    public static partial void RequestAborted(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = EventIds.Startup.StateLoaded, Level = LogLevel.Information, Message = "Snapshot loaded from {Directory}: {Objects} objects from {Files} files")]
    public static partial void StateLoaded(this ILogger logger, string directory, int objects, int files);

    [LoggerMessage(EventId = EventIds.Startup.StateFileInvalid, Level = LogLevel.Error, Message = "State file {File} is invalid, keeping the last good snapshot ({Objects} objects): {Reason}")]
    public static partial void StateFileInvalid(this ILogger logger, string file, int objects, string reason);

    [LoggerMessage(EventId = EventIds.Startup.StateDirectoryUnreadable, Level = LogLevel.Error, Message = "State directory {Directory} cannot be read, keeping the last good snapshot: {Reason}")]
    public static partial void StateDirectoryUnreadable(this ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = EventIds.Startup.StateWatchFailed, Level = LogLevel.Warning, Message = "Watching {Directory} for changes failed; polling every {Seconds} s only")]
    public static partial void StateWatchFailed(this ILogger logger, string directory, double seconds, Exception exception);

    [LoggerMessage(EventId = EventIds.Startup.Started, Level = LogLevel.Information, Message = "Egress webhook listening on {Urls}; state source {Source}; failure mode {FailureMode}")]
    public static partial void Started(this ILogger logger, IEnumerable<string> urls, string source, EgressWebhook.Core.Admission.FailureMode failureMode);

    [LoggerMessage(EventId = EventIds.Startup.Draining, Level = LogLevel.Information, Message = "Shutting down: /readyz answers 503; serving for {Seconds} s more, then finishing the requests in flight")]
    public static partial void Draining(this ILogger logger, double seconds);

    [LoggerMessage(EventId = EventIds.Tls.SelfSignedCertificate, Level = LogLevel.Warning, Message = "No TLS certificate configured: using an in-memory self-signed certificate for localhost, for development only")]
    public static partial void SelfSignedCertificate(this ILogger logger);

    [LoggerMessage(EventId = EventIds.Tls.CertificateLoaded, Level = LogLevel.Information, Message = "TLS certificate loaded from {File}: subject {Subject}, expires {NotAfter:o}, thumbprint {Thumbprint}")]
    public static partial void CertificateLoaded(this ILogger logger, string file, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(EventId = EventIds.Tls.CertificateReloadFailed, Level = LogLevel.Warning, Message = "TLS certificate files changed but cannot be loaded yet, keeping the current certificate: {Reason}")]
    public static partial void CertificateReloadFailed(this ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.Tls.ClientCaLoaded, Level = LogLevel.Information, Message = "Client certificates required, verified against {File} ({Count} CA certificates)")]
    public static partial void ClientCaLoaded(this ILogger logger, string file, int count);

    [LoggerMessage(EventId = EventIds.Tls.ClientCertificateRejected, Level = LogLevel.Debug, Message = "Client certificate {Subject} rejected: {Reason}")]
    public static partial void ClientCertificateRejected(this ILogger logger, string subject, IEnumerable<X509ChainStatus> reason);

    [LoggerMessage(EventId = EventIds.Recheck.ChainIncomplete, Level = LogLevel.Warning, Message = "Egress chain of {Object} (admission {Uid}) still incomplete after the grace period of {Seconds} s: {Message}")]
    public static partial void ChainIncomplete(this ILogger logger, string @object, string uid, double seconds, string message);

    [LoggerMessage(EventId = EventIds.Recheck.ChainCompleted, Level = LogLevel.Debug, Message = "Egress chain of {Object} (admission {Uid}) completed within the grace period")]
    public static partial void ChainCompleted(this ILogger logger, string @object, string uid);

    [LoggerMessage(EventId = EventIds.Recheck.RecheckFailed, Level = LogLevel.Error, Message = "Re-check of {Object} after the grace period failed")]
    public static partial void RecheckFailed(this ILogger logger, string @object, Exception exception);

    [LoggerMessage(EventId = EventIds.Recheck.EventWriteFailed, Level = LogLevel.Warning, Message = "Event for the incomplete egress chain of {Object} could not be written: {Reason}")]
    public static partial void EventWriteFailed(this ILogger logger, string @object, string reason);

    [LoggerMessage(EventId = EventIds.Recheck.RecheckDropped, Level = LogLevel.Warning, Message = "Re-check of {Object} (admission {Uid}) dropped: Webhook:MaxPendingRechecks ({Max}) re-checks are pending")]
    public static partial void RecheckDropped(this ILogger logger, string @object, string uid, int max);

    [LoggerMessage(EventId = EventIds.Audit.AuditWriteFailed, Level = LogLevel.Error, Message = "Writing the audit log failed")]
    public static partial void AuditWriteFailed(this ILogger logger, Exception exception);
}
