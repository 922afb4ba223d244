using Prometheus;

namespace EgressWebhook.Server.Generation;

/// <summary>Prometheus metrics of the routing generator; one instance per registry (the default registry in the
/// server, a private one per test).</summary>
internal sealed class GeneratorMetrics
{
    public GeneratorMetrics(CollectorRegistry? registry = null)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry ?? Prometheus.Metrics.DefaultRegistry);
        Leader = factory.CreateGauge("egress_webhook_generator_leader",
            "1 while this replica holds the generator Lease (only the leader writes).");
        Writes = factory.CreateCounter("egress_webhook_generator_writes_total",
            "Writes of generated routing objects, by kind, operation (apply, delete) and result (ok, error).", "kind", "operation", "result");
        Passes = factory.CreateCounter("egress_webhook_generator_passes_total",
            "Reconcile passes run as leader, by result: ok (nothing failed), error (some write failed; retried with backoff), deferred (not run: the cache has not synced or is stale; looked at again after the retry period).", "result");
        Pending = factory.CreateGauge("egress_webhook_generator_pending_writes",
            "Writes the last pass planned (applies plus deletes); 0 when the cluster matches the plan.");
    }

    public Gauge Leader { get; }

    public Counter Writes { get; }

    public Counter Passes { get; }

    public Gauge Pending { get; }

    /// <summary>Successful writes of every kind and operation.</summary>
    public double SuccessfulWrites => Writes.GetAllLabelValues().Sum(l => l[2] == "ok" ? Writes.WithLabels(l).Value : 0);

    /// <summary>Failed writes of every kind and operation.</summary>
    public double FailedWrites => Writes.GetAllLabelValues().Sum(l => l[2] == "error" ? Writes.WithLabels(l).Value : 0);
}
