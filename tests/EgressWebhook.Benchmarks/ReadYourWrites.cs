using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tests.Fakes;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace EgressWebhook.Benchmarks;

/// <summary>What reading your writes adds to a decision in cluster mode: the same admissions decided by two
/// <see cref="AdmissionService"/>s over one live cache of the fake API server (50 ms between a write and its watch
/// event, no bookmarks for quiet kinds), one with the direct reads, one without; each call timed alone.</summary>
public static class ReadYourWrites
{
    private const int Calls = 2_000;

    /// <summary>The fake API server holding the generated cluster, a synced live cache over it, and two admission
    /// services on that cache: with the direct reads and without.</summary>
    private sealed record Live(FakeKubernetesApiServer Fake, Kubernetes Client, ClusterSnapshotSource Source, AuditLog Audit,
        AdmissionService WithReads, AdmissionService WithoutReads) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Source.StopAsync(CancellationToken.None);
            Source.Dispose();
            await Audit.DisposeAsync();
            Client.Dispose();
            await Fake.DisposeAsync();
        }
    }

    private static async Task<Live> StartAsync(int objects)
    {
        var fake = await FakeKubernetesApiServer.StartAsync();
        fake.Preload(YamlJson.ParseDocuments(ClusterGenerator.Yaml(objects)).Select(d => (JsonObject)JsonNode.Parse(d.Json.GetRawText())!));
        fake.WatchEventDelay = TimeSpan.FromMilliseconds(50);

        var client = new Kubernetes(new KubernetesClientConfiguration { Host = fake.Url });
        var time = TimeProvider.System;
        var options = Microsoft.Extensions.Options.Options.Create(new ClusterOptions { ResyncMinutes = 0 });
        var api = new KubernetesApi(client, time);
        var store = new SnapshotStore(time);
        var clusterMetrics = new ClusterMetrics(Prometheus.Metrics.NewCustomRegistry());
        var source = new ClusterSnapshotSource(api, store, options, time, clusterMetrics, NullLogger<ClusterSnapshotSource>.Instance);
        var fresh = new ClusterFreshReadSource(api, source, options, clusterMetrics, NullLogger<ClusterFreshReadSource>.Instance);
        await source.StartAsync(CancellationToken.None);
        while (!source.IsSynced)
        {
            await Task.Delay(10);
        }

        var webhookOptions = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { Source = WebhookOptions.ClusterSource, AuditLog = "off" });
        var metrics = new WebhookMetrics(store, time, Prometheus.Metrics.NewCustomRegistry());
        var audit = new AuditLog(webhookOptions, NullLogger<AuditLog>.Instance);
        var handler = new AdmissionHandler(Core.Engine.EgressEngine.Default);
        var withReads = new AdmissionService(handler, store, webhookOptions, audit, metrics, NullLogger<AdmissionService>.Instance, time,
            new ServiceCollection().AddSingleton<ICacheHealth>(source).AddSingleton<IFreshReadSource>(fresh).BuildServiceProvider());
        var withoutReads = new AdmissionService(handler, store, webhookOptions, audit, metrics, NullLogger<AdmissionService>.Instance, time,
            new ServiceCollection().AddSingleton<ICacheHealth>(source).BuildServiceProvider());
        return new Live(fake, client, source, audit, withReads, withoutReads);
    }

    /// <summary>What one confirming read adds at <paramref name="objects"/> objects (issue 18's ≤ 5 ms), per kind of read:
    /// a Gateway named by the route and missing (one get, a 404), a ServiceEntry written in the request's namespace a
    /// moment before (a list of that namespace), and one written in another namespace (the namespace, then the whole
    /// kind). Each admission is decided without and with the reads; "added" is the difference per request.</summary>
    public static async Task ConfirmReportAsync(int objects, TextWriter output)
    {
        await using var live = await StartAsync(objects);
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        var calls = Math.Min(namespaces, 200);
        var missingGateway = Enumerable.Range(0, calls).Select(i => Request(i, "gw-by-name", $$$"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: gw-by-name, namespace: team-{{{i}}}}
            spec:
              hosts: [api-{{{i}}}.example.com]
              gateways: [istio-system/absent-{{{i}}}]
              tls:
              - match: [{port: 443, sniHosts: [api-{{{i}}}.example.com]}]
                route:
                - destination: {host: api-{{{i}}}.example.com, port: {number: 443}}
            """)).ToArray();
        var (plain, read) = await MeasureAsync(missingGateway, live.WithoutReads, live.WithReads, calls * 4);
        Print(output, objects, "get by name (404)", plain, read);

        foreach (var (name, elsewhere) in new[] { ("list of the namespace", false), ("namespace, then all", true) })
        {
            var before = new List<double>();
            var after = new List<double>();
            var right = 0;
            for (var i = 0; i < calls; i++)
            {
                var (requestPlain, requestRead) = AfterWrite(live.Fake, i, elsewhere ? "istio-system" : null);
                var start = Stopwatch.GetTimestamp();
                var p = await live.WithoutReads.DecideAsync("validate", requestPlain, start, CancellationToken.None);
                before.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                start = Stopwatch.GetTimestamp();
                var r = await live.WithReads.DecideAsync("validate", requestRead, start, CancellationToken.None);
                after.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                // Tolerant (the default) admits the VirtualService with EGW101 as a warning ("awaiting a ServiceEntry"):
                // right when the cached decision has it and the one after the reads does not
                right += Rests(p) && !Rests(r) && r.Allowed ? 1 : 0;
            }

            if (Environment.GetEnvironmentVariable("CONFIRM_DEBUG") is not null)
            {
                using var http = new HttpClient { BaseAddress = new Uri(live.Fake.Url) };
                foreach (var path in new[] { "apis/networking.istio.io/v1/namespaces/team-0/serviceentries?limit=500", "apis/networking.istio.io/v1/serviceentries?limit=500" })
                {
                    var start = Stopwatch.GetTimestamp();
                    var body = await http.GetStringAsync(path);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"GET {path}: {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F2} ms, {body.Length} bytes"));
                }
            }

            Print(output, objects, name, [.. before], [.. after]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"objects={objects,6} {name}: EGW101 without reads, none with them in {right} of {calls}"));
        }
    }

    private static bool Rests(AdmissionResponse response) =>
        !response.Allowed || (response.Warnings ?? []).Any(w => w.StartsWith("EGW101 ", StringComparison.Ordinal));

    /// <summary>A ServiceEntry for a new host written to the fake (in team-<paramref name="i"/>, or in
    /// <paramref name="ns"/>), then the VirtualService that needs it, twice (a new uid each).</summary>
    private static (AdmissionRequest, AdmissionRequest) AfterWrite(FakeKubernetesApiServer fake, int i, string? ns)
    {
        var suffix = ns is null ? "" : "-x";
        var host = string.Create(CultureInfo.InvariantCulture, $"new{suffix}-{i}.example.com");
        fake.Apply(string.Create(CultureInfo.InvariantCulture, $$"""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: new{{suffix}}-{{i}}, namespace: {{ns ?? $"team-{i}"}}}
            spec: {hosts: [{{host}}], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
            """));
        var yaml = $$$"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: new{{{suffix}}}, namespace: team-{{{i}}}}
            spec:
              hosts: [{{{host}}}]
              tls:
              - match: [{port: 443, sniHosts: [{{{host}}}]}]
                route:
                - destination: {host: {{{host}}}, port: {number: 443}}
            """;
        return (Request(i, "new" + suffix, yaml), Request(i, "new" + suffix, yaml));
    }

    public static async Task ReportAsync(int objects, TextWriter output)
    {
        await using var live = await StartAsync(objects);
        var fake = live.Fake;
        var withReads = live.WithReads;
        var withoutReads = live.WithoutReads;
        var namespaces = ClusterGenerator.NamespacesFor(objects);
        var scenarios = new (string Name, string Object)[]
        {
            ("gateway leg", "egress-to-external"),
            ("mesh leg", "mesh-to-egress"),
            ("VS to a plain Service", "web"),
        };
        foreach (var (name, obj) in scenarios)
        {
            var requests = Enumerable.Range(0, namespaces).Select(i => Request(i, obj)).ToArray();
            var (plain, read) = await MeasureAsync(requests, withoutReads, withReads);
            Print(output, objects, name, plain, read);
        }

        // the case the reads are for: a ServiceEntry written just before the VirtualService that needs it, its watch
        // event 50 ms away; decided without reads it is denied (EGW101 under REGISTRY_ONLY), with them allowed
        var afterWrite = new List<(double, double)>();
        var right = 0;
        for (var i = 0; i < Math.Min(namespaces, 200); i++)
        {
            var host = string.Create(CultureInfo.InvariantCulture, $"new-{i}.example.com");
            fake.Apply(string.Create(CultureInfo.InvariantCulture, $$"""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: new-{{i}}, namespace: team-{{i}}}
                spec: {hosts: [{{host}}], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
                """));
            var request = Request(i, "new", $$$"""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: new, namespace: team-{{{i}}}}
                spec:
                  hosts: [{{{host}}}]
                  tls:
                  - match: [{port: 443, sniHosts: [{{{host}}}]}]
                    route:
                    - destination: {host: {{{host}}}, port: {number: 443}}
                """);
            var start = Stopwatch.GetTimestamp();
            var plain = await withoutReads.DecideAsync("validate", request, start, CancellationToken.None);
            var plainMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            var read = await withReads.DecideAsync("validate", request, start, CancellationToken.None);
            afterWrite.Add((plainMs, Stopwatch.GetElapsedTime(start).TotalMilliseconds));
            right += !plain.Allowed && read.Allowed ? 1 : 0;
        }

        Print(output, objects, "right after a write", [.. afterWrite.Select(p => p.Item1)], [.. afterWrite.Select(p => p.Item2)]);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects={objects,6} right after a write: denied without reads and allowed with them in {right} of {afterWrite.Count}"));
    }

    private static async Task<(double[] Plain, double[] Read)> MeasureAsync(AdmissionRequest[] requests, AdmissionService plain, AdmissionService read, int calls = Calls)
    {
        for (var i = 0; i < calls / 4; i++)
        {
            await TimePairAsync(requests[i % requests.Length], plain, read);
        }

        var a = new double[calls];
        var b = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            (a[i], b[i]) = await TimePairAsync(requests[i % requests.Length], plain, read);
        }

        return (a, b);
    }

    private static async Task<(double Plain, double Read)> TimePairAsync(AdmissionRequest request, AdmissionService plain, AdmissionService read)
    {
        var start = Stopwatch.GetTimestamp();
        await plain.DecideAsync("validate", request, start, CancellationToken.None);
        var plainMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        start = Stopwatch.GetTimestamp();
        await read.DecideAsync("validate", request, start, CancellationToken.None);
        return (plainMs, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    private static void Print(TextWriter output, int objects, string name, double[] plain, double[] read)
    {
        var added = plain.Zip(read, (p, r) => r - p).Order().ToArray();
        Array.Sort(plain);
        Array.Sort(read);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects={objects,6} {name,-22} calls={plain.Length,5} without reads p50={P(plain, 50),6:F2} p99={P(plain, 99),6:F2} ms | " +
            $"with reads p50={P(read, 50),6:F2} p99={P(read, 99),6:F2} ms | added p50={P(added, 50),6:F2} p99={P(added, 99),6:F2} ms"));
    }

    private static double P(double[] sorted, int percentile) => sorted[Math.Min(sorted.Length - 1, sorted.Length * percentile / 100)];

    /// <summary>An UPDATE of the generated object <paramref name="name"/> in namespace team-<paramref name="i"/>, unchanged.</summary>
    private static AdmissionRequest Request(int i, string name, string? yaml = null)
    {
        var review = ReviewBodies.UpdateReview(i, name, ReviewBodies.VirtualServiceOf(i, name, yaml));
        return JsonSerializer.Deserialize(review.ToJsonString(), AdmissionJsonContext.Default.AdmissionReview)!.Request!;
    }
}
