using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;

namespace EgressWebhook.Benchmarks;

/// <summary>Where one <c>/validate</c> request's CPU goes outside Kestrel and TLS, in process and on one thread: the
/// load test's bodies parsed, their objects decoded, decided, answered and counted, each step timed and its allocation
/// measured over many rounds. <c>/floor</c> is the parse and the answer alone.</summary>
public static class RequestProfile
{
    public static void Report(int objects, int rounds, TextWriter output)
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterGenerator.Yaml(objects)));
        var bodies = ReviewBodies.For(objects).Select(Encoding.UTF8.GetBytes).ToArray();
        var settings = new WebhookOptions().ToSettings();
        var pipeline = AdmissionPipeline.Default;
        var store = new SnapshotStore(TimeProvider.System);
        var metrics = new WebhookMetrics(store, TimeProvider.System, Prometheus.Metrics.NewCustomRegistry());
        var steps = new[] { "parse review", "decode object+old", "check (engine alone)", "validate (decode+check)", "serialize answer", "metrics" };
        var time = new double[steps.Length];
        var samples = steps.Select(_ => new List<double>()).ToArray();
        var bytes = new long[steps.Length];
        var n = 0;
        for (var round = 0; round < rounds + 1; round++)
        {
            if (round == 1)
            {
                Array.Clear(time);
                Array.Clear(bytes);
                Array.ForEach(samples, l => l.Clear());
                n = 0;
            }

            foreach (var body in bodies)
            {
                AdmissionReview review = null!;
                Step(0, () => review = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!);
                var request = review.Request!;
                EgressObject obj = null!, old = null!;
                Step(1, () =>
                {
                    obj = ObjectDecoder.Decode(request.Object!.Value, request.Namespace ?? "default")!;
                    old = ObjectDecoder.Decode(request.OldObject!.Value, request.Namespace ?? "default")!;
                });
                Step(2, () => GC.KeepAlive(EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Update, obj, old), RuleSettings.Default)));
                AdmissionDecision decision = null!;
                Step(3, () => decision = pipeline.Validate(AdmissionSubject.Parse(request, settings), snapshot, settings));
                Step(4, () => GC.KeepAlive(JsonSerializer.SerializeToUtf8Bytes(review.Answer(decision.Response), AdmissionJsonContext.Default.AdmissionReview)));
                Step(5, () => metrics.Decided("validate", "VirtualService", "UPDATE", decision, 0.0001));
                n++;
            }
        }

        foreach (var (name, i) in steps.Select((s, i) => (s, i)))
        {
            samples[i].Sort();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"objects={snapshot.Count,6} {name,-24} median {samples[i][samples[i].Count / 2],7:F1} µs  mean {time[i] / n,7:F1} µs {bytes[i] / (double)n / 1024,6:F1} KB per request"));
        }

        void Step(int i, Action action)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            action();
            var spent = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            time[i] += spent;
            samples[i].Add(spent);
            bytes[i] += GC.GetAllocatedBytesForCurrentThread() - allocated;
        }
    }
}
