
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
