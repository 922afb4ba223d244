using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Cluster;

/// <summary>What admissions do while the cluster cache has not synced yet or has gone stale.</summary>
internal enum NotSyncedBehavior
{
    /// <summary>Deny with a message asking the client to retry.</summary>
    Deny,

    /// <summary>Allow with an admission warning that nothing was checked.</summary>
    Allow,
}

/// <summary>Settings of the live-cluster source (section <c>Webhook:Cluster</c>). The tuning values
/// (timeouts, backoff, debounce) have production defaults; tests shorten them.</summary>
internal sealed class ClusterOptions
{
    public const string SectionName = "Webhook:Cluster";

    /// <summary>Path of a kubeconfig file (development); unset = the in-cluster service account.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Full re-list of every kind this often, a safety net against missed events; 0 disables it.</summary>
    public double ResyncMinutes { get; set; } = 30;

    public NotSyncedBehavior WhenNotSynced { get; set; } = NotSyncedBehavior.Deny;

    /// <summary>Namespace of the mesh ConfigMaps <c>istio</c> and <c>istio-&lt;rev&gt;</c>.</summary>
    public string MeshNamespace { get; set; } = "istio-system";

    /// <summary>Changes arriving within this window are published as one snapshot.</summary>
    public double DebounceMilliseconds { get; set; } = 50;

    /// <summary>Server-side watch timeout; each watch asks for a random value in [this, 2×this), as client-go's
    /// reflector does (5–10 minutes by default), so the server ends every watch and the client re-watches from the
    /// last resourceVersion, and the replicas' watches do not all restart at once.</summary>
    public int WatchTimeoutSeconds { get; set; } = 300;

    /// <summary>A watch still open this long after the timeout the server was asked to end it at is taken for a dead
    /// connection (a TCP connection that died without a reset) and re-established. Silence alone never is: the API
    /// server sends a bookmark only when etcd reports progress (every 10 minutes at etcd's default), so an open
    /// watch of a kind with no changes is normally silent for its whole life.</summary>
    public double WatchGraceSeconds { get; set; } = 30;

    /// <summary>Bound on each list page and on the wait for a watch's response headers.</summary>
    public double RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>A kind whose list or watch cannot be (re)established for longer than this makes the cache stale
    /// (refused, 5xx, 401/403, TLS errors, timeouts). A kind without events is not stale.</summary>
    public double StaleAfterSeconds { get; set; } = 60;

    public double MinBackoffSeconds { get; set; } = 0.5;

    public double MaxBackoffSeconds { get; set; } = 30;

    /// <summary>Items per list page (<c>limit</c>/<c>continue</c>); large lists are read page by page.</summary>
    public int ListPageSize { get; set; } = 500;

    /// <summary>Re-discovery of the optional kinds (Gateway API, security.istio.io, EgressPolicy) this often, so a CRD
    /// installed or deleted on a running cluster is watched or dropped without a restart; 0 = only at start-up.</summary>
    public double RediscoverSeconds { get; set; } = 60;

    public TimeSpan Resync => TimeSpan.FromMinutes(ResyncMinutes);

    public TimeSpan Rediscover => TimeSpan.FromSeconds(RediscoverSeconds);

    public TimeSpan Debounce => TimeSpan.FromMilliseconds(DebounceMilliseconds);

    public TimeSpan WatchGrace => TimeSpan.FromSeconds(WatchGraceSeconds);

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(RequestTimeoutSeconds);

    public TimeSpan StaleAfter => TimeSpan.FromSeconds(StaleAfterSeconds);

    public TimeSpan MinBackoff => TimeSpan.FromSeconds(MinBackoffSeconds);

    public TimeSpan MaxBackoff => TimeSpan.FromSeconds(MaxBackoffSeconds);
}

/// <summary>Rejects settings that would make the cache spin or never sync, with one message per bad key.</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        var errors = new List<string>();
        if (options.ResyncMinutes < 0)
        {
            errors.Add($"Webhook:Cluster:ResyncMinutes must be 0 (off) or positive, not {options.ResyncMinutes}");
        }

        if (!(options.RediscoverSeconds >= 0 && options.RediscoverSeconds <= 86400))
        {
            errors.Add($"Webhook:Cluster:RediscoverSeconds must be 0 (only at start-up) or a period of up to 86400 seconds, not {options.RediscoverSeconds}");
        }

        if (!Enum.IsDefined(options.WhenNotSynced))
        {
            errors.Add("Webhook:Cluster:WhenNotSynced must be Deny or Allow");
        }

        if (string.IsNullOrWhiteSpace(options.MeshNamespace))
        {
            errors.Add("Webhook:Cluster:MeshNamespace must name a namespace");
        }

        if (options.DebounceMilliseconds < 0)
        {
            errors.Add("Webhook:Cluster:DebounceMilliseconds must not be negative");
        }

        if (options.WatchTimeoutSeconds < 1)
        {
            errors.Add("Webhook:Cluster:WatchTimeoutSeconds must be at least 1");
        }

        if (options.WatchGraceSeconds <= 0 || options.RequestTimeoutSeconds <= 0 || options.StaleAfterSeconds <= 0)
        {
            errors.Add("Webhook:Cluster:WatchGraceSeconds, RequestTimeoutSeconds and StaleAfterSeconds must be positive");
        }

        if (options.MinBackoffSeconds <= 0 || options.MaxBackoffSeconds < options.MinBackoffSeconds)
        {
            errors.Add("Webhook:Cluster:MinBackoffSeconds must be positive and at most MaxBackoffSeconds");
        }

        if (options.ListPageSize < 1)
        {
            errors.Add("Webhook:Cluster:ListPageSize must be at least 1");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
