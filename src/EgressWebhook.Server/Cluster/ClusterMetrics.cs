using Prometheus;

namespace EgressWebhook.Server.Cluster;

/// <summary>Prometheus metrics of the cluster cache. One instance per registry: the default registry in the
/// server, a private one per test.</summary>
internal sealed class ClusterMetrics
{
    public ClusterMetrics(CollectorRegistry? registry = null)
    {
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.DefaultRegistry);
        LastSync = factory.CreateGauge("egress_webhook_cluster_last_sync_timestamp_seconds",
            "Unix time the cache of a kind was last confirmed current (list, watch event or bookmark).", "kind");
        WatchRestarts = factory.CreateCounter("egress_webhook_cluster_watch_restarts_total",
            "Watches re-established, by reason: closed (server timeout), gone (410, re-list), dropped, stalled, error.", "kind", "reason");
        Relists = factory.CreateCounter("egress_webhook_cluster_relists_total",
            "Full lists of a kind, by reason: initial, gone, resync.", "kind", "reason");
        Objects = factory.CreateGauge("egress_webhook_cluster_objects",
            "Objects cached per kind.", "kind");
        DecodeErrors = factory.CreateCounter("egress_webhook_cluster_decode_errors_total",
            "Objects the cache skipped because a field has the wrong type.", "kind");
        EventLag = factory.CreateHistogram("egress_webhook_cluster_event_lag_seconds",
            "Time from receiving a watch event to publishing the snapshot that contains it.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 12) });
        Synced = factory.CreateGauge("egress_webhook_cluster_synced",
            "1 once every kind has synced and a snapshot was published.");
        Stale = factory.CreateGauge("egress_webhook_cluster_stale",
            "1 while a kind's list/watch has been failing longer than the stale threshold.");
        FreshReads = factory.CreateCounter("egress_webhook_cluster_fresh_reads_total",
            "Direct reads that confirm a denial for a missing object, by outcome: found, none, failed, timeout.", "outcome");
        PublishedObjects = factory.CreateGauge("egress_webhook_cluster_snapshot_objects",
            "Objects in the last published snapshot.");
    }

    public Gauge LastSync { get; }

    public Counter WatchRestarts { get; }

    public Counter Relists { get; }

    public Gauge Objects { get; }

    public Counter DecodeErrors { get; }

    public Histogram EventLag { get; }

    public Gauge Synced { get; }

    public Gauge Stale { get; }

    public Counter FreshReads { get; }

    public Gauge PublishedObjects { get; }
}
