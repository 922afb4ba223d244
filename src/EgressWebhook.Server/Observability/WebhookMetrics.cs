using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Snapshots;
using Prometheus;

namespace EgressWebhook.Server.Observability;

/// <summary>The webhook's Prometheus metrics. The registry comes from DI: prometheus-net's default registry in the
/// process (so the cluster source's metrics and the process metrics are on the same page), a registry of its own
/// for each in-process test host.</summary>
/// <remarks>The namespace is not <c>…Metrics</c>: that would hide <c>Prometheus.Metrics</c> in every
/// <c>EgressWebhook.Server.*</c> namespace.</remarks>
internal sealed class WebhookMetrics
{
    private readonly Counter _requests;
    private readonly Counter _findings;
    private readonly Counter _badRequests;
    private readonly Histogram _latency;
    private readonly Gauge _snapshotObjects;
    private readonly Gauge _snapshotAge;
    private readonly Gauge _snapshotLoadFailing;
    private readonly Counter _snapshotLoads;

    public WebhookMetrics(SnapshotStore store, TimeProvider time, CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("egress_webhook_admission_requests_total", "Admission requests decided, by endpoint, kind, operation and decision.",
            "endpoint", "kind", "operation", "decision");
        _findings = factory.CreateCounter("egress_webhook_findings_total", "Findings reported in admission decisions, by rule and severity.", "rule", "severity");
        _badRequests = factory.CreateCounter("egress_webhook_bad_requests_total", "Admission requests refused before a decision (HTTP 400/408/413, 503 out of memory).", "endpoint", "code");
        _latency = factory.CreateHistogram("egress_webhook_admission_duration_seconds", "Time from the request's arrival to its decision (body read, check, fresh read if any).",
            new HistogramConfiguration
            {
                LabelNames = ["endpoint"],
                Buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
        _snapshotObjects = factory.CreateGauge("egress_webhook_snapshot_objects", "Objects in the current snapshot.");
        _snapshotAge = factory.CreateGauge("egress_webhook_snapshot_age_seconds", "Seconds since the current snapshot was published (-1 before the first).");
        _snapshotLoadFailing = factory.CreateGauge("egress_webhook_snapshot_load_failing", "Whether the latest load of the source failed (then the last good snapshot is served).");
        _snapshotLoads = factory.CreateCounter("egress_webhook_snapshot_loads_total", "Snapshot loads by result (ok, error).", "result");

        store.Published += state =>
        {
            _snapshotObjects.Set(state.Snapshot.Count);
            _snapshotLoads.WithLabels("ok").Inc();
            _snapshotLoadFailing.Set(0);
        };
        Registry.AddBeforeCollectCallback(() =>
        {
            var current = store.Current;
            _snapshotAge.Set(store.IsReady ? (time.GetUtcNow() - current.PublishedAt).TotalSeconds : -1);
        });
    }

    public CollectorRegistry Registry { get; }

    public void Decided(string endpoint, string kind, string operation, AdmissionDecision decision, double seconds)
    {
        _requests.WithLabels(endpoint, kind, operation, decision.OutcomeName).Inc();
        _latency.WithLabels(endpoint).Observe(seconds);
        foreach (var f in decision.Findings)
        {
            _findings.WithLabels(f.Rule, f.Severity == Severity.Error ? "error" : "warning").Inc();
        }
    }

    public void Refused(string endpoint, int statusCode) => _badRequests.WithLabels(endpoint, StatusLabel(statusCode)).Inc();

    public void SnapshotLoadFailed()
    {
        _snapshotLoads.WithLabels("error").Inc();
        _snapshotLoadFailing.Set(1);
    }

    private static string StatusLabel(int code) => code switch
    {
        400 => "400",
        408 => "408",
        413 => "413",
        _ => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
