using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using EgressWebhook.Benchmarks;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

// dotnet run -c Release --project tests/EgressWebhook.Benchmarks -- --filter '*'      BenchmarkDotNet
// ... -- generate-state DIR OBJECTS                                                    a state directory for the load test
// ... -- memory OBJECTS                                                                retained bytes per cached object
// ... -- reviews FILE OBJECTS                                                          AdmissionReview bodies, one per line
// ... -- latency-explain OBJECTS [CALLS]                                              per rule: mean check and AffectedBy time and allocation
// ... -- latency-split OBJECTS [CALLS]                                                per kind: one check's allocation by step (views, own rules, caused)
// ... -- request-profile OBJECTS [ROUNDS]                                             /validate's steps in process: parse, decode, check, answer, metrics
// ... -- latency OBJECTS...                                                            per-check p50/p99, each call timed alone
// ... -- read-your-writes OBJECTS...                                                   what the direct reads add in cluster mode (fake API server, 50 ms watch lag)
// ... -- yaml-memory                                                                 time and memory of 3 MiB of YAML, plain and aliased
// ... -- hostile OBJECTS [issue] [half] [update] [REPEAT]                              hostile objects up to 3 MiB (half: 1.5 MiB), decided as the webhook does (update: as an UPDATE of itself)
// ... -- hostile-case OBJECTS FILTER [REPEAT]                                         only the hostile cases whose name contains FILTER (for a profiler)
// ... -- hostile-decode [REPEAT]                                                      each hostile case's review parse and object decode alone (no check)
// ... -- hostile-reviews DIR [half] [update]                                          each hostile case's AdmissionReview as a file, for tests/load/hostile.sh
// ... -- confirm OBJECTS...                                                            what one confirming read adds (get by name, namespace list, whole kind)
// ... -- churn OBJECTS... [--compare]                                                   1,000 single watch events applied to the snapshot (and the rebuild, with --compare)
if (args is ["generate-state", var dir, var count])
{
    ClusterGenerator.WriteState(dir, int.Parse(count, CultureInfo.InvariantCulture));
    return 0;
}

if (args is ["reviews", var file, var size])
{
    File.WriteAllLines(file, ReviewBodies.For(int.Parse(size, CultureInfo.InvariantCulture)));
    return 0;
}

if (args is ["memory", var n])
{
    var objects = int.Parse(n, CultureInfo.InvariantCulture);
    var yaml = ClusterGenerator.Yaml(objects);
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var watch = Stopwatch.StartNew();
    var decoded = ManifestReader.Read(yaml);
    var decode = watch.Elapsed;
    watch.Restart();
    var snapshot = EgressSnapshot.Create(decoded);
    var index = watch.Elapsed;
    var after = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"objects={snapshot.Count} decode={decode.TotalMilliseconds:F0} ms index={index.TotalMilliseconds:F0} ms retained={(after - before) / 1024.0 / 1024.0:F1} MiB " +
        $"per-object={(after - before) / (double)snapshot.Count:F0} B working-set={Environment.WorkingSet / 1024.0 / 1024.0:F0} MiB"));
    GC.KeepAlive(snapshot);
    return 0;
}

if (args is ["latency-explain", var explainSize, .. var explainCalls])
{
    Latency.Explain(int.Parse(explainSize, CultureInfo.InvariantCulture), explainCalls.Length > 0 ? int.Parse(explainCalls[0], CultureInfo.InvariantCulture) : 200, Console.Out);
    return 0;
}

if (args is ["request-profile", var profileSize, .. var profileRounds])
{
    RequestProfile.Report(int.Parse(profileSize, CultureInfo.InvariantCulture), profileRounds.Length > 0 ? int.Parse(profileRounds[0], CultureInfo.InvariantCulture) : 200, Console.Out);
    return 0;
}

if (args is ["latency-split", var splitSize, .. var splitCalls])
{
    Latency.Split(int.Parse(splitSize, CultureInfo.InvariantCulture), splitCalls.Length > 0 ? int.Parse(splitCalls[0], CultureInfo.InvariantCulture) : 200, Console.Out);
    return 0;
}

if (args is ["latency", .. var sizes])
{
    foreach (var objects in sizes)
    {
        Latency.Report(int.Parse(objects, CultureInfo.InvariantCulture), Console.Out);
    }

    return 0;
}

if (args is ["churn", .. var churnArgs])
{
    foreach (var objects in churnArgs.Where(a => a != "--compare"))
    {
        Churn.Report(int.Parse(objects, CultureInfo.InvariantCulture), churnArgs.Contains("--compare"), Console.Out);
    }

    return 0;
}

if (args is ["read-your-writes", .. var rywSizes])
{
    foreach (var objects in rywSizes)
    {
        await ReadYourWrites.ReportAsync(int.Parse(objects, CultureInfo.InvariantCulture), Console.Out);
    }

    return 0;
}

if (args is ["confirm", .. var confirmSizes])
{
    foreach (var objects in confirmSizes)
    {
        await ReadYourWrites.ConfirmReportAsync(int.Parse(objects, CultureInfo.InvariantCulture), Console.Out);
    }

    return 0;
}

if (args is ["yaml-memory"])
{
    // near 3 MiB of YAML: a plain list, then an anchored list aliased until the expansion limit refuses it
    var plain = string.Concat(Enumerable.Repeat("- api.example.com\n", 3 * 1024 * 1024 / 18));
    var anchor = "a: &a [" + string.Join(',', Enumerable.Repeat("x", 100_000)) + "]\nb: [" + string.Join(',', Enumerable.Repeat("*a", 1_400_000 / 3)) + "]\n";
    foreach (var (name, text) in new[] { ("plain list", plain), ("aliases", anchor) })
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        string outcome;
        try
        {
            outcome = $"{YamlJson.ParseDocuments(text).Count} document";
        }
        catch (ManifestException ex)
        {
            outcome = ex.Describe();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {text.Length / 1024.0 / 1024.0:F2} MiB of text, {watch.ElapsedMilliseconds} ms, allocated {(GC.GetTotalAllocatedBytes(precise: true) - before) / 1024.0 / 1024.0:F0} MiB, " +
            $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1024.0 / 1024.0:F0} MiB: {outcome}"));
    }

    return 0;
}

if (args is ["hostile-explain", var clusterSize, var filter])
{
    Hostile.Explain(int.Parse(clusterSize, CultureInfo.InvariantCulture), filter, Console.Out);
    return 0;
}

if (args is ["hostile-case", var caseCluster, var caseFilter, .. var caseRest])
{
    var caseRepeat = caseRest.Length > 0 ? int.Parse(caseRest[0], CultureInfo.InvariantCulture) : 5;
    Hostile.Report(int.Parse(caseCluster, CultureInfo.InvariantCulture), onlyIssue: false, caseRepeat, Console.Out, caseFilter);
    return 0;
}

if (args is ["hostile-decode", .. var decodeRest])
{
    Hostile.Decode(decodeRest.Length > 0 ? int.Parse(decodeRest[0], CultureInfo.InvariantCulture) : 9, Console.Out);
    return 0;
}

if (args is ["hostile-reviews", var reviewDir, .. var reviewRest])
{
    Hostile.Scale = reviewRest.Contains("half") ? 0.5 : 1;
    Hostile.AsUpdate = reviewRest.Contains("update");
    Hostile.WriteReviews(reviewDir);
    return 0;
}

if (args is ["hostile", var cluster, .. var rest])
{
    Hostile.Scale = rest.Contains("half") ? 0.5 : 1;
    Hostile.AsUpdate = rest.Contains("update");
    var repeat = rest.Length > 0 && int.TryParse(rest[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 5;
    Hostile.Report(int.Parse(cluster, CultureInfo.InvariantCulture), rest.Contains("issue"), repeat, Console.Out);
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(ClusterGenerator).Assembly).Run(args);
return 0;
