using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Core.Tests.Trace;

/// <summary>The ambient stage of <see cref="EgressTracer.Default"/>: client ztunnel → waypoint → external (issue 17).</summary>
public sealed class AmbientTraceTests
{
    private const string Ns = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
        """;

    private const string Entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: httpbin, namespace: shop, labels: {istio.io/use-waypoint: waypoint}}
        spec:
          hosts: [httpbin.org]
          ports: [{number: 443, name: https, protocol: HTTPS}]
          resolution: DNS
        """;

    private const string Waypoint = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: waypoint, namespace: shop}
        spec:
          gatewayClassName: istio-waypoint
          listeners: [{name: mesh, port: 15008, protocol: HBONE}]
        """;

    private static EgressTrace Trace(params string[] docs) =>
        EgressTracer.Default.Trace(EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", docs))), "shop", "httpbin.org", 443);

    [Fact]
    public void BoundEntry_GoesThroughTheWaypoint()
    {
        var trace = Trace(Ns, Entry, Waypoint);

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal(["Namespace", "ServiceEntry", "Gateway"], trace.Hops.Select(h => h.Kind));
        Assert.Equal("shop/waypoint", $"{trace.Hops[2].Namespace}/{trace.Hops[2].Name}");
        Assert.StartsWith("through waypoint shop/waypoint", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingWaypoint_IsADirectBypass()
    {
        var trace = Trace(Ns, Entry);

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.DoesNotContain(trace.Hops, h => h.Kind == "Gateway");
        Assert.Contains("WaypointIsNotReady", trace.Reason, StringComparison.Ordinal);
        Assert.Contains("bypassing the waypoint", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WaypointForWorkloadsOnly_IsADirectBypass()
    {
        var trace = Trace(Ns, Entry, Waypoint.Replace("namespace: shop}", "namespace: shop, labels: {istio.io/waypoint-for: workload}}", StringComparison.Ordinal));

        Assert.Contains("UnsupportedTrafficType", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void UnregisteredHost_UnderRegistryOnly_StillLeavesDirectly()
    {
        var mesh = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data: {mesh: "outboundTrafficPolicy: {mode: REGISTRY_ONLY}"}
            """;

        var trace = Trace(Ns, mesh, Waypoint);

        Assert.Equal(TraceEnd.Passthrough, trace.End);
    }

    [Fact]
    public void SidecarNamespace_IsNotTakenByTheAmbientStage()
    {
        var trace = Trace(Ns.Replace("ambient", "none", StringComparison.Ordinal), Entry, Waypoint);

        Assert.DoesNotContain(trace.Hops, h => h.Kind == "Namespace");
    }
}
