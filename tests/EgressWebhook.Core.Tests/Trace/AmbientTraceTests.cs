using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;
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

    /// <summary>An HTTPRoute the waypoint applies: parent the egress walkthrough's ServiceEntry, backend its host
    /// (the shape of Istio's Gateway API egress task, docs/egress-control/04 of the corpus, in istio-egress).</summary>
    private const string Route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: httpbin-timeout, namespace: istio-egress}
        spec:
          parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: httpbin-org}]
          hostnames: [httpbin.org]
          rules:
          - timeouts: {request: 3s}
            backendRefs: [{kind: Hostname, group: networking.istio.io, name: httpbin.org, port: 80}]
        """;

    private static string GoldenPath(string name) => Path.Combine(TestPaths.TestData, "trace", name + ".txt");

    private static string CorpusText(string file) => File.ReadAllText(Path.Combine(TestPaths.Corpus, "ambient", file));

    private static string Edited(string file, string from, string to)
    {
        var text = CorpusText(file);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    /// <summary>A trace from the walkthroughs' client namespace, default, to httpbin.org on the port the registry declares.</summary>
    private static EgressTrace FromDefault(params string[] docs) =>
        EgressTracer.Default.Trace(EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", docs))), "default", "httpbin.org");

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

    [Fact]
    public void Corpus_BoundEntryWithHttpRoute_ListsTheRouteAndTheWaypointInVia()
    {
        var trace = FromDefault(CorpusText("01-egress-waypoint-se-httpbin.yaml"), Route);

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal(80, trace.Port);
        Assert.Equal(["istio-egress/waypoint"], trace.Via);
        Assert.Equal(["Namespace", "ServiceEntry", "Gateway", "HTTPRoute"], trace.Hops.Select(h => h.Kind));
        var route = trace.Hops[3];
        Assert.Equal(("istio-egress", "httpbin-timeout", "spec.rules[0].backendRefs[0]"), (route.Namespace, route.Name, route.Field));
        Assert.Contains("Hostname httpbin.org:80", route.Note, StringComparison.Ordinal);
        Assert.Equal(1, route.Depth);
        Assert.Contains("\"via\": [\n    \"istio-egress/waypoint\"\n  ]", TraceFormat.Json(trace), StringComparison.Ordinal);
        Golden.AssertMatches(GoldenPath("ambient-bound-routed"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Corpus_BoundEntryWithoutRoute_HasNoRouteHopButStillListsTheWaypoint()
    {
        var trace = FromDefault(CorpusText("01-egress-waypoint-se-httpbin.yaml"));

        Assert.Equal(["Namespace", "ServiceEntry", "Gateway"], trace.Hops.Select(h => h.Kind));
        Assert.Equal(["istio-egress/waypoint"], trace.Via);
        Assert.Equal("through waypoint istio-egress/waypoint to httpbin.org:80", trace.Reason);
    }

    [Theory]
    [InlineData("name: httpbin-org}]", "name: httpbin-org, port: 443}]")]
    [InlineData("kind: HTTPRoute", "kind: TCPRoute")]
    [InlineData("hostnames: [httpbin.org]", "hostnames: [example.com]")]
    [InlineData("name: httpbin-org}]", "name: httpbin.org}]")]
    public void Corpus_RouteForAnotherPortKindHostOrParent_IsNotApplied(string from, string to)
    {
        Assert.Contains(from, Route, StringComparison.Ordinal);
        var route = Route.Replace(from, to, StringComparison.Ordinal);

        var trace = FromDefault(CorpusText("01-egress-waypoint-se-httpbin.yaml"), route);

        Assert.DoesNotContain(trace.Hops, h => h.Kind.EndsWith("Route", StringComparison.Ordinal));
        Assert.Equal(TraceEnd.External, trace.End);
    }

    [Fact]
    public void Corpus_HostnameBackendNoEntryDeclares_EndsDroppedAtTheWaypoint()
    {
        var trace = FromDefault(CorpusText("01-egress-waypoint-se-httpbin.yaml"), Route.Replace("name: httpbin.org, port: 80", "name: httpbin.org, port: 8080", StringComparison.Ordinal));

        Assert.Equal(TraceEnd.Dropped, trace.End);
        Assert.Equal(["istio-egress/waypoint"], trace.Via);
        Assert.Contains("httpbin.org:8080", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Corpus_HostnameBackendToTheSecondEntry_AddsItsServiceEntryHop()
    {
        var trace = FromDefault(CorpusText("04-egress-waypoint-second-se-example-com.yaml"), Route.Replace("name: httpbin.org, port: 80", "name: example.com, port: 80", StringComparison.Ordinal));

        Assert.Equal(["Namespace", "ServiceEntry", "Gateway", "HTTPRoute", "ServiceEntry"], trace.Hops.Select(h => h.Kind));
        Assert.Equal("example-com", trace.Hops[4].Name);
        Assert.Equal("through waypoint istio-egress/waypoint to example.com:80", trace.Reason);
    }

    [Fact]
    public void Corpus_TlsOrigination_IsAHopAtTheWaypoint()
    {
        var trace = FromDefault(CorpusText("03-egress-waypoint-tls-origination.yaml"));

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal(["istio-egress/waypoint"], trace.Via);
        Assert.Equal(["Namespace", "ServiceEntry", "Gateway", "DestinationRule"], trace.Hops.Select(h => h.Kind));
        var dr = trace.Hops[3];
        Assert.Equal(("istio-egress", "httpbin-org-tls", "spec.trafficPolicy.tls"), (dr.Namespace, dr.Name, dr.Field));
        Assert.Contains("TLS origination at the waypoint: tls SIMPLE", dr.Note, StringComparison.Ordinal);
        Assert.Equal("through waypoint istio-egress/waypoint to httpbin.org:443 (TLS originated at the waypoint)", trace.Reason);
        Golden.AssertMatches(GoldenPath("ambient-bound-tls-origination"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Corpus_TargetPort443WithoutOrigination_EndsDropped()
    {
        var trace = FromDefault(Edited("03-egress-waypoint-tls-origination.yaml", "      mode: SIMPLE", "      mode: DISABLE"));

        Assert.Equal(TraceEnd.Dropped, trace.End);
        Assert.Contains("EGW506", trace.Reason, StringComparison.Ordinal);
        Assert.Contains("tls DISABLE", trace.Hops[^1].Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Corpus_LabelNamingAMissingWaypoint_GoesStraightOut()
    {
        var trace = FromDefault(Edited("01-egress-waypoint-se-httpbin.yaml", "  name: waypoint\n  namespace: istio-egress", "  name: egress\n  namespace: istio-egress"), Route);

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Empty(trace.Via);
        Assert.Equal(["Namespace", "ServiceEntry"], trace.Hops.Select(h => h.Kind));
        Assert.Contains("WaypointIsNotReady: no Gateway istio-egress/waypoint", trace.Hops[1].Note, StringComparison.Ordinal);
        Assert.Contains("straight out, bypassing the waypoint and its 1 route(s)", trace.Reason, StringComparison.Ordinal);
        Golden.AssertMatches(GoldenPath("ambient-missing-waypoint-bypass"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Corpus_WaypointForWorkloadTrafficOnly_GoesStraightOut()
    {
        var trace = FromDefault(Edited("01-egress-waypoint-se-httpbin.yaml", "istio.io/waypoint-for: service", "istio.io/waypoint-for: workload"));

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Empty(trace.Via);
        Assert.Contains("UnsupportedTrafficType: serves workload", trace.Hops[^1].Note, StringComparison.Ordinal);
        Assert.Contains("straight out", trace.Reason, StringComparison.Ordinal);
        Assert.Contains("\"via\": []", TraceFormat.Json(trace), StringComparison.Ordinal);
        Golden.AssertMatches(GoldenPath("ambient-workload-waypoint-bypass"), TraceFormat.Text(trace));
    }

    /// <summary>The corpus's visibility walkthrough (00): entries outside istio-system are NAMESPACE-visible.</summary>
    private static string Visibility(string? extra = null) =>
        extra is null ? CorpusText("00-meshconfig-serviceentry-visibility.yaml")
            : Edited("00-meshconfig-serviceentry-visibility.yaml", "    serviceEntryVisibility:\n", extra + "    serviceEntryVisibility:\n");

    [Fact]
    public void Corpus_NamespaceVisibleEntry_IsHiddenFromOtherNamespaces_PassesThroughPastTheWaypoint()
    {
        var trace = FromDefault(Visibility(), CorpusText("01-egress-waypoint-se-httpbin.yaml"), Route);

        Assert.Equal(TraceEnd.Passthrough, trace.End);
        Assert.Empty(trace.Via);
        Assert.Equal("istio-egress/waypoint", trace.BypassedWaypoint);
        Assert.Equal(["Namespace", "ServiceEntry"], trace.Hops.Select(h => h.Kind));
        Assert.Equal(("istio-egress", "httpbin-org", "metadata.namespace"), (trace.Hops[1].Namespace, trace.Hops[1].Name, trace.Hops[1].Field));
        Assert.Contains("serviceEntryVisibility.defaultVisibility makes it NAMESPACE: hidden from default", trace.Hops[1].Note, StringComparison.Ordinal);
        Assert.Equal("hidden by serviceEntryVisibility NAMESPACE: DNS goes upstream, ztunnel connects to the host directly", trace.Reason);
        Golden.AssertMatches(GoldenPath("ambient-visibility-hidden-passthrough"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Corpus_HiddenEntry_UnderRegistryOnly_StillPassesThrough_AndSaysSo()
    {
        var trace = FromDefault(Visibility("    outboundTrafficPolicy:\n      mode: REGISTRY_ONLY\n"), CorpusText("01-egress-waypoint-se-httpbin.yaml"));

        // ztunnel does not enforce REGISTRY_ONLY (EGW507): the hidden host is unregistered for default, and leaves directly
        Assert.Equal(TraceEnd.Passthrough, trace.End);
        Assert.EndsWith("; REGISTRY_ONLY does not stop it in ambient", trace.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Corpus_PublicPolicyForTheEntrysNamespace_IsANearMiss_ThroughTheWaypoint()
    {
        var mesh = Edited("00-meshconfig-serviceentry-visibility.yaml", "kubernetes.io/metadata.name: istio-system", "kubernetes.io/metadata.name: istio-egress");

        var trace = FromDefault(mesh, CorpusText("01-egress-waypoint-se-httpbin.yaml"), Route);

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal(["istio-egress/waypoint"], trace.Via);
        Assert.Null(trace.BypassedWaypoint);
        Golden.AssertMatches(GoldenPath("ambient-visibility-public-policy-routed"), TraceFormat.Text(trace));
    }

    [Fact]
    public void Corpus_NamespaceVisibleEntry_FromItsOwnNamespace_GoesThroughTheWaypoint()
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", Visibility(), CorpusText("01-egress-waypoint-se-httpbin.yaml"))));

        var trace = EgressTracer.Default.Trace(snapshot, "istio-egress", "httpbin.org");

        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal(["istio-egress/waypoint"], trace.Via);
    }

    [Fact]
    public void Corpus_NoneVisibleEntry_IsHiddenEvenFromItsOwnNamespace()
    {
        var mesh = Edited("00-meshconfig-serviceentry-visibility.yaml", "defaultVisibility: NAMESPACE", "defaultVisibility: NONE");
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", mesh, CorpusText("01-egress-waypoint-se-httpbin.yaml"))));

        var trace = EgressTracer.Default.Trace(snapshot, "istio-egress", "httpbin.org", 80);

        Assert.Equal(TraceEnd.Passthrough, trace.End);
        Assert.Contains("defaultVisibility makes it NONE: hidden from istio-egress", trace.Hops[1].Note, StringComparison.Ordinal);
    }

    [Fact]
    public void HiddenEntry_AVisibleOneForTheSameHost_IsTheOneUsed()
    {
        var own = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: httpbin-local, namespace: default}
            spec:
              hosts: [httpbin.org]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
            """;

        var trace = FromDefault(Visibility(), CorpusText("01-egress-waypoint-se-httpbin.yaml"), own);

        // default's own entry is visible to it (and bound to no waypoint): the hidden one in istio-egress plays no part
        Assert.Equal(TraceEnd.External, trace.End);
        Assert.Equal("httpbin-local", trace.Hops[1].Name);
        Assert.DoesNotContain(trace.Hops, h => h.Name == "httpbin-org");
    }

    [Theory]
    [InlineData(true, TraceEnd.Blackhole)]
    [InlineData(false, TraceEnd.External)]
    public void SidecarClient_HonoursVisibilityOnlyWithApplyToSidecars_NamingIt(bool applyToSidecars, TraceEnd expected)
    {
        var mesh = Visibility("    outboundTrafficPolicy:\n      mode: REGISTRY_ONLY\n");
        mesh = applyToSidecars ? mesh.Replace("      defaultVisibility: NAMESPACE\n", "      defaultVisibility: NAMESPACE\n      applyToSidecars: true\n", StringComparison.Ordinal) : mesh;
        Assert.Equal(applyToSidecars, mesh.Contains("applyToSidecars", StringComparison.Ordinal));
        var sidecarDefault = CorpusText("01-egress-waypoint-se-httpbin.yaml").Replace("    istio.io/dataplane-mode: ambient\n---", "    istio-injection: enabled\n---", StringComparison.Ordinal);
        Assert.False(Waypoints.IsAmbientNamespace(SnapshotView.Of(EgressSnapshot.Create(ManifestReader.Read(sidecarDefault))), "default"));

        var trace = FromDefault(mesh, sidecarDefault);

        Assert.Equal(expected, trace.End);
        if (applyToSidecars)
        {
            var hidden = Assert.Single(trace.Hops, h => h.Kind == "ServiceEntry");
            Assert.Contains("serviceEntryVisibility.defaultVisibility makes it NAMESPACE (applyToSidecars): hidden from default", hidden.Note, StringComparison.Ordinal);
            Assert.Contains("hidden by serviceEntryVisibility NAMESPACE", trace.Reason, StringComparison.Ordinal);
        }
    }
}
