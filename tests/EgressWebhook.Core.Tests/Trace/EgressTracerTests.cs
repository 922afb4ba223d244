using System.Text.Json;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Core.Tests.Trace;

public sealed class EgressTracerTests
{
    private static string GoldenPath(string name) => Path.Combine(TestPaths.TestData, "trace", name + ".txt");

    private static EgressTrace Trace(IEnumerable<EgressObject> objects, string host = "edition.cnn.com", int? port = 443, string? outbound = null) =>
        EgressTracer.Default.Trace(EgressSnapshot.Create(objects), "default", host, port, RuleSettings.Default with { OutboundPolicy = outbound });

    private static List<EgressObject> WithoutMeshConfig(List<EgressObject> objects)
    {
        objects.RemoveAll(o => o is MeshConfig);
        return objects;
    }

    [Fact]
    public void Trace_Seed_EndsExternalThroughEgressGateway()
    {
        var trace = Trace(Seed.Objects());

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal(["default/istio-egressgateway"], trace.Via);
        Assert.Equal(
            ["MeshConfig", "VirtualService", "DestinationRule", "Service", "Gateway", "VirtualService", "ServiceEntry"],
            trace.Hops.Select(h => h.Kind));
        Assert.Equal("mesh-to-egress-gateway", trace.Hops[1].Name);
        Assert.Equal("spec.tls[0].match[0]", trace.Hops[1].Field);
        Assert.Equal("spec.ports[1]", trace.Hops[3].Field);
        Assert.Contains("targetPort 8443", trace.Hops[3].Note, StringComparison.Ordinal);
        Assert.Contains("PASSTHROUGH", trace.Hops[4].Note, StringComparison.Ordinal);
        Assert.Equal("egressgateway-to-external", trace.Hops[5].Name);
        Assert.Equal("cnn", trace.Hops[6].Name);
        Golden.AssertMatches(GoldenPath("seed-external"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Trace_SeedWithoutServiceEntryRegistryOnly_EndsInBlackhole()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is ServiceEntry { Name: "cnn" });

        var trace = Trace(objects);

        Assert.Equal(TraceEnd.Blackhole, trace.End);
        Assert.Empty(trace.Via);
        Assert.Equal("BlackHoleCluster", trace.Hops[^1].Name);
        Assert.Contains("BlackHoleCluster", trace.Reason, StringComparison.Ordinal);
        Golden.AssertMatches(GoldenPath("seed-no-serviceentry-blackhole"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Trace_SeedWithoutServiceEntryAllowAny_EndsInPassthrough()
    {
        var objects = WithoutMeshConfig(Seed.Objects());
        objects.RemoveAll(o => o is ServiceEntry { Name: "cnn" });

        var trace = Trace(objects);

        Assert.Equal(TraceEnd.Passthrough, trace.End);
        Assert.Equal("PassthroughCluster", trace.Hops[^1].Name);
        Golden.AssertMatches(GoldenPath("seed-no-serviceentry-passthrough"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Trace_SeedWithoutGatewayLeg_EndsDroppedAtGateway()
    {
        var objects = Seed.Objects();
        objects.RemoveAll(o => o is VirtualService { Name: "egressgateway-to-external" });

        var trace = Trace(objects);

        Assert.Equal(TraceEnd.Dropped, trace.End);
        Assert.Equal(["default/istio-egressgateway"], trace.Via);
        Assert.Equal("Gateway", trace.Hops[^1].Kind);
        Assert.Contains("no VirtualService bound to Gateway default/istio-egressgateway", trace.Reason, StringComparison.Ordinal);
        Golden.AssertMatches(GoldenPath("seed-no-gateway-leg-dropped"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Trace_NoneResolutionWildcardBehindGateway_EndsInLoop()
    {
        var objects = Seed.Objects().Select(o => o is ServiceEntry { Name: "cnn" } se
            ? se with { Spec = se.Spec with { Hosts = ["*.cnn.com"], Resolution = Resolutions.None } }
            : o).ToList();

        var trace = Trace(objects);

        Assert.Equal(TraceEnd.Loop, trace.End);
        Assert.Equal(["default/istio-egressgateway"], trace.Via);
        Assert.Equal("ServiceEntry", trace.Hops[^1].Kind);
        Assert.Contains("resolution NONE", trace.Reason, StringComparison.Ordinal);
        Golden.AssertMatches(GoldenPath("seed-none-wildcard-loop"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Trace_GoogleInSeed_LeavesDirectly()
    {
        var trace = Trace(Seed.Objects(), "google.com", port: null);

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Empty(trace.Via);
        Assert.Equal(443, trace.Port);
        Assert.Equal("google", trace.Hops[^1].Name);
    }

    [Fact]
    public void Trace_UnregisteredPortOfRegisteredHost_FallsToOutboundPolicy()
    {
        var trace = Trace(Seed.Objects(), "google.com", port: 8443);

        Assert.Equal(TraceEnd.Blackhole, trace.End);
        Assert.Contains(trace.Hops, h => h is { Kind: "ServiceEntry", Name: "google", Field: "spec.ports" });
    }

    [Fact]
    public void Trace_GatewayLegNotExportedToGatewayNamespace_EndsDropped()
    {
        var objects = Seed.Objects().Select(o => o is VirtualService { Name: "egressgateway-to-external" } vs
            ? vs with { Spec = vs.Spec with { ExportTo = ["."] } }
            : o).ToList();

        var trace = Trace(objects);

        // the gateway runs in istio-system (its Service's namespace) and loads only legs exported there
        Assert.Equal(TraceEnd.Dropped, trace.End);
        Assert.Contains("not exported to istio-system", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_GatewayLegRoutingToGatewayService_EndsInLoop()
    {
        var objects = Seed.Objects().Select(o => o is VirtualService { Name: "egressgateway-to-external" } vs
            ? vs with
            {
                Spec = vs.Spec with
                {
                    Tls = [vs.Spec.Tls[0] with { Route = [new RouteDestination { Destination = new Destination { Host = "istio-egressgateway.istio-system.svc.cluster.local", Port = new PortSelector { Number = 443 } } }] }],
                },
            }
            : o).ToList();

        var trace = Trace(objects);

        Assert.Equal(TraceEnd.Loop, trace.End);
        Assert.Contains("its own workload", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_SidecarRegistryOnlyOverridesAllowAnyMesh_EndsInBlackhole()
    {
        var objects = WithoutMeshConfig(Seed.Objects());
        objects.RemoveAll(o => o is ServiceEntry { Name: "cnn" });
        objects.Add(new Sidecar
        {
            Metadata = new ObjectMeta { Name = "default", Namespace = "default" },
            Spec = new SidecarSpec { OutboundTrafficPolicy = new OutboundTrafficPolicy { Mode = OutboundPolicies.RegistryOnly } },
        });

        var trace = Trace(objects);

        Assert.Equal(TraceEnd.Blackhole, trace.End);
        Assert.Equal("Sidecar", trace.Hops[0].Kind);
    }

    [Fact]
    public void Json_Seed_HasTheContractFields()
    {
        var json = TraceFormat.Json(Trace(Seed.Objects()));

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(["from", "host", "port", "end", "via", "hops", "reason"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("default", root.GetProperty("from").GetString());
        Assert.Equal("edition.cnn.com", root.GetProperty("host").GetString());
        Assert.Equal(443, root.GetProperty("port").GetInt32());
        Assert.Equal("external", root.GetProperty("end").GetString());
        Assert.Equal("default/istio-egressgateway", root.GetProperty("via")[0].GetString());
        var hop = root.GetProperty("hops")[1];
        Assert.Equal(["kind", "namespace", "name", "field", "note"], hop.EnumerateObject().Select(p => p.Name));
        Assert.Equal("VirtualService", hop.GetProperty("kind").GetString());
    }
}
