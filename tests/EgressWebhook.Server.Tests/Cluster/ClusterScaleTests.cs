using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using EgressWebhook.Server.Tests.Fakes;
using Xunit.Abstractions;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>Time to ready and memory with 10,000 cached objects. Numbers go to the test output:
/// <c>dotnet test tests/EgressWebhook.Server.Tests --filter "FullyQualifiedName~ClusterScaleTests" --logger "console;verbosity=detailed"</c>.</summary>
public sealed class ClusterScaleTests(ITestOutputHelper output)
{
    private const int Objects = 10_000;

    [Fact]
    public async Task TenThousandObjects_SyncWithinBudget_AndReportTimeAndMemory()
    {
        await using var server = await FakeKubernetesApiServer.StartAsync();
        server.Apply(ClusterYaml.MeshRegistryOnly);
        server.Preload(Generate(Objects));
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var clock = Stopwatch.StartNew();
        await using var h = await ClusterHarnessOver(server);
        await ClusterHarness.WaitUntilAsync(() => h.Store.IsReady, "ready", TimeSpan.FromSeconds(120));
        var ready = clock.Elapsed;

        var snapshot = h.Store.Current.Snapshot;
        Assert.Equal(Objects + 1, snapshot.Count);
        Assert.True(h.SnapshotState().SetEquals(server.Expected()));
        var managed = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        using var process = Process.GetCurrentProcess();
        process.Refresh();

        clock.Restart();
        var rebuilt = EgressWebhook.Core.Snapshot.EgressSnapshot.Create(snapshot.Objects);
        var build = clock.Elapsed;
        Assert.Equal(snapshot.Count, rebuilt.Count);

        // a second replica in the same (now warmed-up) process: the cost without JIT and first-use start-up
        clock.Restart();
        await using var warm = await ClusterHarnessOver(server);
        await ClusterHarness.WaitUntilAsync(() => warm.Store.IsReady, "ready", TimeSpan.FromSeconds(120));
        var warmReady = clock.Elapsed;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"objects={snapshot.Count} time_to_ready_ms={ready.TotalMilliseconds:0} warm_time_to_ready_ms={warmReady.TotalMilliseconds:0} " +
            $"snapshot_build_ms={build.TotalMilliseconds:0} managed_delta_mb={managed / 1048576.0:0.0} bytes_per_object={managed / (double)snapshot.Count:0} " +
            $"working_set_mb={process.WorkingSet64 / 1048576.0:0.0} (the working set includes the fake API server and the test host)"));
        Assert.True(ready < TimeSpan.FromSeconds(60), $"time to ready {ready}");
    }

    private static Task<ClusterHarness> ClusterHarnessOver(FakeKubernetesApiServer server) =>
        ClusterHarness.StartOverAsync(server, o => o.ListPageSize = 500);

    /// <summary>A cluster-like mix: Services, ServiceEntries, VirtualServices, DestinationRules, Gateways, Sidecars, Namespaces.</summary>
    private static IEnumerable<JsonObject> Generate(int total)
    {
        var mix = new (string Kind, int Share)[] { ("Service", 40), ("ServiceEntry", 25), ("VirtualService", 20), ("DestinationRule", 10), ("Gateway", 3), ("Sidecar", 1), ("Namespace", 1) };
        var namespaces = Math.Max(1, total / 100);
        var n = 0;
        foreach (var (kind, share) in mix)
        {
            var count = kind == "Namespace" ? total - n : total * share / 100;
            for (var i = 0; i < count; i++, n++)
            {
                var ns = $"team-{i % namespaces}";
                var host = $"svc{i}.example.com";
                yield return kind switch
                {
                    "Service" => Obj("v1", kind, ns, $"svc-{i}", new JsonObject
                    {
                        ["selector"] = new JsonObject { ["app"] = $"app-{i}" },
                        ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 80, ["targetPort"] = 8080 }),
                    }),
                    "ServiceEntry" => Obj("networking.istio.io/v1", kind, ns, $"se-{i}", new JsonObject
                    {
                        ["hosts"] = new JsonArray(host),
                        ["ports"] = new JsonArray(new JsonObject { ["number"] = 443, ["name"] = "tls", ["protocol"] = "TLS" }),
                        ["resolution"] = "DNS",
                    }),
                    "VirtualService" => Obj("networking.istio.io/v1", kind, ns, $"vs-{i}", new JsonObject
                    {
                        ["hosts"] = new JsonArray(host),
                        ["tls"] = new JsonArray(new JsonObject
                        {
                            ["match"] = new JsonArray(new JsonObject { ["port"] = 443, ["sniHosts"] = new JsonArray(host) }),
                            ["route"] = new JsonArray(new JsonObject { ["destination"] = new JsonObject { ["host"] = host, ["port"] = new JsonObject { ["number"] = 443 } } }),
                        }),
                    }),
                    "DestinationRule" => Obj("networking.istio.io/v1", kind, ns, $"dr-{i}", new JsonObject
                    {
                        ["host"] = host,
                        ["subsets"] = new JsonArray(new JsonObject { ["name"] = "v1" }),
                        ["trafficPolicy"] = new JsonObject { ["tls"] = new JsonObject { ["mode"] = "SIMPLE" } },
                    }),
                    "Gateway" => Obj("networking.istio.io/v1", kind, ns, $"gw-{i}", new JsonObject
                    {
                        ["selector"] = new JsonObject { ["istio"] = "egressgateway" },
                        ["servers"] = new JsonArray(new JsonObject
                        {
                            ["port"] = new JsonObject { ["number"] = 443, ["name"] = "tls", ["protocol"] = "TLS" },
                            ["hosts"] = new JsonArray(host),
                            ["tls"] = new JsonObject { ["mode"] = "PASSTHROUGH" },
                        }),
                    }),
                    "Sidecar" => Obj("networking.istio.io/v1", kind, ns, $"sc-{i}", new JsonObject
                    {
                        ["egress"] = new JsonArray(new JsonObject { ["hosts"] = new JsonArray("./*", "istio-system/*") }),
                    }),
                    _ => Obj("v1", kind, null, $"ns-{i}", null),
                };
            }
        }
    }

    private static JsonObject Obj(string apiVersion, string kind, string? ns, string name, JsonObject? spec)
    {
        var meta = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app.kubernetes.io/part-of"] = "scale-test" } };
        if (ns is not null)
        {
            meta["namespace"] = ns;
        }

        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = meta };
        if (spec is not null)
        {
            obj["spec"] = spec;
        }

        return obj;
    }
}
