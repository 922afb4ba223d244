using System.Text.Json.Nodes;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Tests.Fakes;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>Ambient mutation end to end (issue 17): the fake API server holds an ambient namespace opted in by its label
/// and the egress waypoint; a ServiceEntry applied through its admission chain goes to the running webhook's
/// <c>/mutate</c>, gets its JSON Patch applied, is checked against Istio's ServiceEntry CRD, and goes to <c>/validate</c>.</summary>
public sealed class AmbientMutationClusterTests
{
    private const string Namespace = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
          labels:
            istio.io/dataplane-mode: ambient
            egress.istio.io/gateway: shop.egress-waypoint
        """;

    /// <summary>The waypoint as a real cluster holds it once its pod is ready: istiod writes its Service's address into
    /// <c>status.addresses</c> (without one istiod binds nothing to it, <c>WaypointIsNotReady</c>).</summary>
    private const string Waypoint = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: egress-waypoint
          namespace: shop
          labels:
            istio.io/waypoint-for: service
        spec:
          gatewayClassName: istio-waypoint
          listeners:
          - name: mesh
            port: 15008
            protocol: HBONE
        status:
          addresses:
          - type: IPAddress
            value: 10.96.12.34
        """;

    /// <summary>An HTTPRoute the waypoint applies once the entry is bound to it (no EGW404 in ambient).</summary>
    private const string Route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: httpbin-timeout
          namespace: shop
        spec:
          parentRefs:
          - kind: ServiceEntry
            group: networking.istio.io
            name: httpbin
          rules:
          - timeouts:
              request: 5s
            backendRefs:
            - kind: Hostname
              group: networking.istio.io
              name: httpbin.org
              port: 80
        """;

    private const string Entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: httpbin
          namespace: shop
        spec:
          hosts:
          - httpbin.org
          ports:
          - number: 80
            name: http
            protocol: HTTP
          resolution: DNS
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OptedInAmbientEntry_MutatedThenValidated_GetsItsWaypointLabel_ZeroFindings_ValidAgainstTheCrds(bool withRoute)
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", withRoute ? [Namespace, Waypoint, Route] : new[] { Namespace, Waypoint })));
        var chain = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        w.Api.Admission = chain;
        await w.WaitForServerStateAsync();

        var write = Assert.Single(await w.Api.KubectlApplyAsync(Entry, w.WaitForServerStateAsync));

        // allowed by /validate after the schema step, and no warning from either webhook (no EGW404 for the route)
        Assert.True(write.Allowed, write.ToString());
        Assert.Empty(write.Warnings);
        var stored = w.Api.Get("serviceentries", "shop", "httpbin")!;
        Assert.Equal("egress-waypoint", stored["metadata"]!["labels"]!["istio.io/use-waypoint"]!.GetValue<string>());
        Assert.Null(stored["metadata"]!["labels"]!["istio.io/use-waypoint-namespace"]);
        Assert.Equal("shop/egress-waypoint", stored["metadata"]!["annotations"]!["egress.istio.io/gateway"]!.GetValue<string>());
        Assert.Equal("MESH_EXTERNAL", stored["spec"]!["location"]!.GetValue<string>());
        foreach (var crd in new[] { "crd-all.istio-1.24.yaml", "crd-all.istio-1.32-dev.yaml" })
        {
            Assert.Empty(Cli.Tests.IstioCrdSchemas.Load(crd).Validate(Manifest(stored)));
        }

        // the patched entry as the cluster holds it: bound as istiod binds it, nothing any rule reports, nothing generated
        await w.WaitForServerStateAsync();
        Assert.Empty(EgressEngine.Default.CheckAll(w.Webhook.Store.Current.Snapshot, RuleSettings.Default).Findings);
        Assert.Empty(w.Api.All("virtualservices"));
        Assert.Empty(w.Api.All("gateways"));

        // reinvocation (or the next apply) of the stored entry: no patch, still no warning
        var again = Assert.Single(await w.Api.KubectlApplyAsync(Manifest(stored).ToJsonString()));
        Assert.True(again.Allowed, again.ToString());
        Assert.Empty(again.Warnings);
        Assert.Equal(2, chain.Writes.Count);
    }

    [Fact]
    public async Task OptedInAmbientEntry_WaypointMissing_NotLabelled_Egw412Warning_StillAdmitted()
    {
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", Namespace, Route)));
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        await w.WaitForServerStateAsync();

        var write = Assert.Single(await w.Api.KubectlApplyAsync(Entry, w.WaitForServerStateAsync));

        // a label to a missing waypoint would be a silent bypass: no patch, EGW412 says why, EGW404 does not appear
        Assert.True(write.Allowed, write.ToString());
        Assert.Contains(write.Warnings, x => x.StartsWith("EGW412 ", StringComparison.Ordinal) && x.Contains("WaypointIsNotReady", StringComparison.Ordinal));
        Assert.DoesNotContain(write.Warnings, x => x.StartsWith("EGW404", StringComparison.Ordinal));
        Assert.Null(w.Api.Get("serviceentries", "shop", "httpbin")!["metadata"]!["labels"]);
    }

    [Fact]
    public async Task OptedInAmbientEntry_WaypointNotReadyYet_IsLabelled_AndValidateWarnsEgw501UntilItHasAnAddress()
    {
        var pending = Waypoint[..Waypoint.IndexOf("status:", StringComparison.Ordinal)];
        await using var w = await ClusterWebhook.StartAsync(api => api.Apply(string.Join("\n---\n", Namespace, pending)));
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrds);
        await w.WaitForServerStateAsync();

        var write = Assert.Single(await w.Api.KubectlApplyAsync(Entry, w.WaitForServerStateAsync));

        // the label is the intent (it binds once istiod gives the waypoint an address); /validate says it is not bound yet
        Assert.True(write.Allowed, write.ToString());
        Assert.Equal("egress-waypoint", w.Api.Get("serviceentries", "shop", "httpbin")!["metadata"]!["labels"]!["istio.io/use-waypoint"]!.GetValue<string>());
        var warning = Assert.Single(write.Warnings);
        Assert.StartsWith("EGW501 ServiceEntry shop/httpbin", warning, StringComparison.Ordinal);
        Assert.True(warning.Contains("WaypointIsNotReady: waypoint shop/egress-waypoint has no add", StringComparison.Ordinal), warning);
    }

    /// <summary>The object as written (what a schema judges): the fields the API server adds on store removed.</summary>
    private static JsonObject Manifest(JsonObject stored)
    {
        var copy = (JsonObject)stored.DeepClone();
        var meta = (JsonObject)copy["metadata"]!;
        foreach (var field in new[] { "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields" })
        {
            meta.Remove(field);
        }

        copy.Remove("status");
        return copy;
    }
}
