using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Benchmarks;

/// <summary>Objects built to make a check expensive: long lists of hosts, ports, servers, routes, matches, subsets,
/// endpoints and exportTo entries, up to the API server's 3 MiB request limit. Each is decided the webhook's way
/// (review JSON parsed, object decoded, change checked) against a generated cluster, and timed.</summary>
public static class Hostile
{
    /// <summary>The API server refuses a request body over 3 MiB; the review also carries the envelope.</summary>
    public const int MaxObjectBytes = 3 * 1024 * 1024 - 4096;

    public sealed record Case(string Name, string Kind, string ObjectJson);

    /// <summary>Fraction of <see cref="MaxObjectBytes"/> the grown lists fill (the <c>half</c> argument: 0.5, to see the growth).</summary>
    public static double Scale { get; set; } = 1;

    /// <summary>Send each object as an UPDATE whose <c>oldObject</c> is the same object (the <c>update</c> argument): what
    /// a re-apply of an unchanged hostile object costs, the comparison of the two versions included.</summary>
    public static bool AsUpdate { get; set; }

    /// <summary>The issue's measured cases, then one case per list of each kind grown to near 3 MiB.</summary>
    public static IEnumerable<Case> Cases(bool onlyIssue)
    {
        yield return ServiceEntry("se 4,000 identical hosts", Repeat(4_000, _ => "api.example.com"), Ports(1));
        yield return ServiceEntry("se 10,000 identical hosts", Repeat(10_000, _ => "api.example.com"), Ports(1));
        yield return Gateway("gw 8,000 server hosts", [Server(443, Repeat(8_000, i => $"h{i}.example.com"))]);
        yield return VirtualService("vs 2,000 routes x 2,000 gateways", "[\"api.example.com\"]", Repeat(2_001, i => i == 2_000 ? "mesh" : $"ns{i}/gw{i}"),
            "[" + string.Join(',', Enumerable.Range(0, 2_000).Select(i => $"{{\"route\":[{{\"destination\":{{\"host\":\"h{i}.example.com\"}}}}]}}")) + "]");
        if (onlyIssue)
        {
            yield break;
        }

        yield return ServiceEntry("se identical hosts 3 MiB", Fill(i => "\"api.example.com\""), Ports(1));
        yield return ServiceEntry("se distinct hosts 3 MiB", Fill(i => $"\"h{i}.example.com\""), Ports(1));
        yield return ServiceEntry("se wildcard hosts 3 MiB", Fill(i => i % 2 == 0 ? $"\"*.d{i}.example.com\"" : $"\"a.d{i - 1}.example.com\""), Ports(1));
        yield return ServiceEntry("se partial wildcards 3 MiB", Fill(i => $"\"*h{i}.example.com\""), Ports(1));
        yield return ServiceEntry("se ports 3 MiB", "[\"api.example.com\"]", Fill(i => $"{{\"number\":{1 + (i % 65000)},\"name\":\"p{i}\",\"protocol\":\"{(i % 2 == 0 ? "TLS" : "HTTP")}\"}}"));
        yield return ServiceEntry("se endpoints 3 MiB", "[\"api.example.com\"]", Ports(1),
            $",\"resolution\":\"STATIC\",\"endpoints\":{Fill(i => $"{{\"address\":\"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}\",\"ports\":{{\"https\":443}}}}")}");
        yield return ServiceEntry("se exportTo 3 MiB", "[\"api.example.com\"]", Ports(1), $",\"exportTo\":{Fill(i => $"\"ns{i}\"")}");
        yield return ServiceEntry("se addresses 3 MiB", "[\"api.example.com\"]", Ports(1), $",\"addresses\":{Fill(i => $"\"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}\"")}");

        yield return Gateway("gw identical server hosts 3 MiB", [Server(443, FillList(_ => "api.example.com"))]);
        yield return Gateway("gw distinct server hosts 3 MiB", [Server(443, FillList(i => $"h{i}.example.com"))]);
        yield return Gateway("gw servers 3 MiB", FillList(i => Server(1 + (i % 65000), $"[\"h{i}.example.com\"]"), raw: true));
        yield return Gateway("gw same server 3 MiB", FillList(_ => Server(443, "[\"api.example.com\"]"), raw: true));

        yield return VirtualService("vs hosts 3 MiB", Fill(i => $"\"h{i}.example.com\""), "[\"mesh\"]", "[]");
        yield return VirtualService("vs gateways 3 MiB", "[\"api.example.com\"]", Fill(i => $"\"istio-system/gw{i}\""), "[]");
        yield return VirtualService("vs http routes 3 MiB", "[\"api.example.com\"]", "[\"mesh\",\"istio-system/istio-egressgateway\"]",
            Fill(i => $"{{\"match\":[{{\"gateways\":[\"mesh\"],\"port\":80}}],\"route\":[{{\"destination\":{{\"host\":\"h{i}.example.com\",\"subset\":\"s{i}\",\"port\":{{\"number\":443}}}}}}]}}"));
        yield return VirtualService("vs http matches 3 MiB", "[\"api.example.com\"]", "[\"mesh\",\"istio-system/istio-egressgateway\"]",
            $"[{{\"match\":{Fill(i => $"{{\"gateways\":[\"istio-system/istio-egressgateway\"],\"port\":{1 + (i % 65000)}}}")},\"route\":[{{\"destination\":{{\"host\":\"api.example.com\"}}}}]}}]");
        yield return VirtualService("vs http destinations 3 MiB", "[\"api.example.com\"]", "[\"mesh\"]",
            $"[{{\"route\":{Fill(i => "{\"destination\":{\"host\":\"api.example.com\",\"subset\":\"v1\",\"port\":{\"number\":443}}}")}}}]");
        yield return VirtualService("vs tls sniHosts 3 MiB", Fill(i => $"\"h{i}.example.com\"", MaxObjectBytes / 2 - 1024), "[\"mesh\",\"istio-system/istio-egressgateway\"]", "[]",
            $",\"tls\":[{{\"match\":[{{\"port\":443,\"gateways\":[\"mesh\"],\"sniHosts\":{Fill(i => $"\"h{i}.example.com\"", MaxObjectBytes / 2 - 1024)}}}],\"route\":[{{\"destination\":{{\"host\":\"istio-egressgateway.istio-system.svc.cluster.local\",\"port\":{{\"number\":443}}}}}}]}}]");

        yield return DestinationRule("dr subsets 3 MiB", $",\"subsets\":{Fill(i => $"{{\"name\":\"s{i}\",\"labels\":{{\"v\":\"{i}\"}}}}")}");
        yield return DestinationRule("dr identical subsets 3 MiB", $",\"subsets\":{Fill(_ => "{\"name\":\"v1\",\"labels\":{\"v\":\"1\"}}")}");
        yield return DestinationRule("dr port settings 3 MiB", $",\"trafficPolicy\":{{\"portLevelSettings\":{Fill(i => $"{{\"port\":{{\"number\":{1 + (i % 65000)}}},\"tls\":{{\"mode\":\"SIMPLE\"}}}}")}}}");
        yield return DestinationRule("dr exportTo 3 MiB", $",\"exportTo\":{Fill(i => $"\"ns{i}\"")}");

        yield return Sidecar("sidecar egress hosts 3 MiB", $"[{{\"hosts\":{Fill(i => $"\"ns{i}/h{i}.example.com\"")}}}]");
        yield return Sidecar("sidecar egress listeners 3 MiB", Fill(i => $"{{\"port\":{{\"number\":{1 + (i % 65000)},\"protocol\":\"HTTP\",\"name\":\"p{i}\"}},\"hosts\":[\"./*\"]}}"));
    }

    /// <summary>Decides every case <paramref name="repeat"/> times and prints the median.</summary>
    public static void Report(int objects, bool onlyIssue, int repeat, TextWriter output, string? filter = null)
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterGenerator.Yaml(objects)));
        var handler = AdmissionHandler.Default;
        foreach (var c in Cases(onlyIssue).Where(c => filter is null || c.Name.Contains(filter, StringComparison.Ordinal)))
        {
            var body = Review(c);
            var times = new double[repeat];
            var cpus = new double[repeat];
            var allocated = new double[repeat];
            string outcome = "";
            for (var i = 0; i < repeat; i++)
            {
                // CPU time of this thread and its allocation: on a shared machine the wall time also counts waiting for a core
                var cpu = ThreadCpu();
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                var start = Stopwatch.GetTimestamp();
                var review = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!;
                using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var decision = handler.Validate(review.Request!, snapshot, AdmissionSettings.Default, budget.Token);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                cpus[i] = (ThreadCpu() - cpu).TotalMilliseconds;
                allocated[i] = (GC.GetAllocatedBytesForCurrentThread() - bytes) / 1024.0 / 1024.0;
                outcome = $"{decision.OutcomeName} {decision.Response.Status?.Code} {decision.Findings.Count} findings";
            }

            Array.Sort(times);
            Array.Sort(cpus);
            Array.Sort(allocated);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name,-36} {body.Length / 1024.0 / 1024.0,5:F2} MiB  median={times[repeat / 2],9:F1} ms  max={times[^1],9:F1} ms  " +
                $"cpu={cpus[repeat / 2],8:F1} ms  alloc={allocated[repeat / 2],6:F0} MiB  {outcome}"));
        }
    }

    /// <summary>What each case costs before any rule: the review parsed from one span (the endpoint copies a body of several
    /// segments into one first) and the object
    /// decoded into the model, each timed alone after a full collection, <paramref name="repeat"/> times; medians.</summary>
    public static void Decode(int repeat, TextWriter output)
    {
        foreach (var c in Cases(onlyIssue: false))
        {
            var body = Review(c);
            var parse = new double[repeat];
            var decode = new double[repeat];
            var cpu = new double[repeat];
            for (var i = 0; i < repeat; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var before = ThreadCpu();
                var start = Stopwatch.GetTimestamp();
                var review = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!;
                parse[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                _ = ObjectDecoder.Decode(review.Request!.Object!.Value, "team-1");
                decode[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                cpu[i] = (ThreadCpu() - before).TotalMilliseconds;
            }

            Array.Sort(parse);
            Array.Sort(decode);
            Array.Sort(cpu);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name,-36} review parse={parse[repeat / 2],7:F1} ms  decode={decode[repeat / 2],7:F1} ms  both cpu={cpu[repeat / 2],6:F1} ms"));
        }
    }

    /// <summary>Writes each case's review to <paramref name="directory"/> as <c>NN.json</c>, and <c>cases.tsv</c> (file, case
    /// name): what <c>tests/load/hostile.sh</c> sends to a running server.</summary>
    public static void WriteReviews(string directory)
    {
        Directory.CreateDirectory(directory);
        var index = new StringBuilder();
        var n = 0;
        foreach (var c in Cases(onlyIssue: false))
        {
            var file = string.Create(CultureInfo.InvariantCulture, $"{n++:D2}.json");
            File.WriteAllBytes(Path.Combine(directory, file), Review(c));
            index.Append(file).Append('\t').Append(c.Name).Append('\n');
        }

        File.WriteAllText(Path.Combine(directory, "cases.tsv"), index.ToString());
    }

    /// <summary>Where the time of the cases whose name contains <paramref name="filter"/> goes: decode, then each rule's
    /// check of the object and its AffectedBy, then the engine's whole check.</summary>
    public static void Explain(int objects, string filter, TextWriter output)
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(ClusterGenerator.Yaml(objects)));
        foreach (var c in Cases(false).Where(c => c.Name.Contains(filter, StringComparison.Ordinal)))
        {
            var start = Stopwatch.GetTimestamp();
            using var json = JsonDocument.Parse(c.ObjectJson);
            var obj = ObjectDecoder.Decode(json.RootElement, "team-1")!;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{c.Name}: decode {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F1} ms"));
            foreach (var rule in Core.Engine.EgressEngine.Default.Rules)
            {
                using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var view = SnapshotView.With(snapshot, obj, budget.Token);
                var context = new Core.Rules.RuleContext(view, Core.Rules.RuleSettings.Default);
                start = Stopwatch.GetTimestamp();
                double check = -1, by = -1;
                var affected = -1;
                try
                {
                    if (rule.AppliesTo(obj.ResourceKind))
                    {
                        rule.Check(obj, context);
                    }

                    check = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    start = Stopwatch.GetTimestamp();
                    affected = rule.AffectedBy(obj, view).Count();
                    by = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
                catch (OperationCanceledException)
                {
                    output.WriteLine($"  {string.Join('/', rule.Ids)} over 5 s");
                    continue;
                }

                if (check + by > 2)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {string.Join('/', rule.Ids)} check {check:F1} ms, affectedBy {by:F1} ms ({affected})"));
                }
            }

            // the engine's way, warm: one context shared by the object's rules (what one rule computes for the others is
            // charged to the first that asks), each rule's time and allocation
            using (var warm = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            {
                var view = SnapshotView.With(snapshot, obj, warm.Token);
                var context = new Core.Rules.RuleContext(view, Core.Rules.RuleSettings.Default);
                foreach (var rule in Core.Engine.EgressEngine.Default.Rules.Where(r => r.AppliesTo(obj.ResourceKind)))
                {
                    var bytes = GC.GetAllocatedBytesForCurrentThread();
                    start = Stopwatch.GetTimestamp();
                    rule.Check(obj, context);
                    var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    var mib = (GC.GetAllocatedBytesForCurrentThread() - bytes) / 1048576.0;
                    if (ms > 2)
                    {
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  shared {string.Join('/', rule.Ids)} {ms:F1} ms, {mib:F1} MiB"));
                    }
                }
            }

            start = Stopwatch.GetTimestamp();
            try
            {
                using var all = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var report = Core.Engine.EgressEngine.Default.CheckChange(snapshot, new Core.Engine.ObjectChange(Core.Engine.Operation.Create, obj, null),
                    Core.Rules.RuleSettings.Default, all.Token);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  engine {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F1} ms, {report.Findings.Count} findings"));
            }
            catch (OperationCanceledException)
            {
                output.WriteLine("  engine over 10 s");
            }
        }
    }

    /// <summary>CPU time of the calling thread (Linux: <c>/proc/thread-self/stat</c>, utime + stime in clock ticks of
    /// 10 ms); the process's total elsewhere.</summary>
    private static TimeSpan ThreadCpu()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/thread-self/stat"))
        {
            var stat = File.ReadAllText("/proc/thread-self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromMilliseconds(ticks * 10);
        }

        return Process.GetCurrentProcess().TotalProcessorTime;
    }

    /// <summary>A CREATE review of the case's object in namespace <c>team-1</c>.</summary>
    public static byte[] Review(Case c)
    {
        var sb = new StringBuilder(c.ObjectJson.Length + 512);
        sb.Append("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"hostile\",");
        sb.Append(CultureInfo.InvariantCulture, $"\"kind\":{{\"group\":\"{Group(c.Kind)}\",\"version\":\"{Version(c.Kind)}\",\"kind\":\"{c.Kind}\"}},");
        sb.Append(AsUpdate ? "\"operation\":\"UPDATE\"," : "\"operation\":\"CREATE\",");
        sb.Append("\"namespace\":\"team-1\",\"name\":\"hostile\",\"object\":").Append(c.ObjectJson);
        if (AsUpdate)
        {
            sb.Append(",\"oldObject\":").Append(c.ObjectJson);
        }

        sb.Append("}}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Group(string kind) => kind is "Service" ? "" : "networking.istio.io";

    private static string Version(string kind) => kind is "Service" ? "v1" : "v1";

    private static string Meta(string apiVersion, string kind) =>
        $"\"apiVersion\":\"{apiVersion}\",\"kind\":\"{kind}\",\"metadata\":{{\"name\":\"hostile\",\"namespace\":\"team-1\"}}";

    private static Case ServiceEntry(string name, string hosts, string ports, string extra = "") =>
        new(name, "ServiceEntry", $"{{{Meta("networking.istio.io/v1", "ServiceEntry")},\"spec\":{{\"hosts\":{hosts},\"location\":\"MESH_EXTERNAL\",\"resolution\":\"DNS\",\"ports\":{ports}{extra}}}}}");

    private static Case Gateway(string name, IEnumerable<string> servers) =>
        new(name, "Gateway", $"{{{Meta("networking.istio.io/v1", "Gateway")},\"spec\":{{\"selector\":{{\"istio\":\"egressgateway\"}},\"servers\":[{string.Join(',', servers)}]}}}}");

    private static Case VirtualService(string name, string hosts, string gateways, string http, string extra = "") =>
        new(name, "VirtualService", $"{{{Meta("networking.istio.io/v1", "VirtualService")},\"spec\":{{\"hosts\":{hosts},\"gateways\":{gateways},\"http\":{http}{extra}}}}}");

    private static Case DestinationRule(string name, string extra) =>
        new(name, "DestinationRule", $"{{{Meta("networking.istio.io/v1", "DestinationRule")},\"spec\":{{\"host\":\"api.example.com\"{extra}}}}}");

    private static Case Sidecar(string name, string egress) =>
        new(name, "Sidecar", $"{{{Meta("networking.istio.io/v1", "Sidecar")},\"spec\":{{\"egress\":{egress},\"outboundTrafficPolicy\":{{\"mode\":\"REGISTRY_ONLY\"}}}}}}");

    private static string Server(int port, string hostsJson) =>
        $"{{\"port\":{{\"number\":{port},\"name\":\"tls-{port}\",\"protocol\":\"TLS\"}},\"hosts\":{hostsJson},\"tls\":{{\"mode\":\"PASSTHROUGH\"}}}}";

    private static string Ports(int count) =>
        "[" + string.Join(',', Enumerable.Range(0, count).Select(i => $"{{\"number\":{443 + i},\"name\":\"tls-{443 + i}\",\"protocol\":\"TLS\"}}")) + "]";

    private static string Repeat(int count, Func<int, string> item) =>
        "[" + string.Join(',', Enumerable.Range(0, count).Select(i => JsonSerializer.Serialize(item(i), BenchJson.Default.String))) + "]";

    /// <summary>A JSON array of raw items, as many as fit in <paramref name="bytes"/>.</summary>
    private static string Fill(Func<int, string> item, int bytes = MaxObjectBytes)
    {
        bytes = (int)(bytes * Scale);
        var sb = new StringBuilder("[");
        for (var i = 0; ; i++)
        {
            var next = item(i);
            if (sb.Length + next.Length + 2 > bytes)
            {
                break;
            }

            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(next);
        }

        return sb.Append(']').ToString();
    }

    private static string FillList(Func<int, string> host) => Fill(i => JsonSerializer.Serialize(host(i), BenchJson.Default.String));

    private static List<string> FillList(Func<int, string> item, bool raw)
    {
        _ = raw;
        var list = new List<string>();
        var total = 0;
        for (var i = 0; total < (MaxObjectBytes - 1024) * Scale; i++)
        {
            var next = item(i);
            total += next.Length + 1;
            list.Add(next);
        }

        list.RemoveAt(list.Count - 1);
        return list;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class BenchJson : System.Text.Json.Serialization.JsonSerializerContext;
