using EgressWebhook.Server.Tests.Fakes;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>A ServiceEntry longer than Istio's CRD allows (<c>maxItems</c>), as the API server meets it: refused by the
/// CRD schema after the mutating webhook and before the validating one; with CRDs without the limits, by EGW210.</summary>
public sealed class SchemaLimitsClusterTests
{
    private static string Entry(int hosts) => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: big
          namespace: default
          annotations: {egress.istio.io/gateway: istio-system/istio-egressgateway}
        spec:
          hosts: [{{string.Join(", ", Enumerable.Range(0, hosts).Select(i => $"h{i}.example.com"))}}]
          ports: [{number: 443, name: tls, protocol: TLS}]
          resolution: DNS
        """;

    [Theory]
    [InlineData("crd-all.istio-1.32-dev.yaml")]
    [InlineData("crd-all.istio-1.24.yaml")]
    public async Task ServiceEntryOf257Hosts_IsRefusedByTheCrdSchema_TheMutationPatchedNothing(string crds)
    {
        await using var w = await ClusterWebhook.StartAsync();
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrdsOf(crds));
        await w.WaitForServerStateAsync();

        var write = Assert.Single(await w.Api.KubectlApplyAsync(Entry(257)));

        Assert.False(write.Allowed);
        Assert.Equal(422, write.Code);
        Assert.Contains("/spec/hosts: maxItems", write.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("EGW210", write.Message, StringComparison.Ordinal);
        Assert.Contains(write.Warnings, x => x.StartsWith("EGW413 ServiceEntry default/big", StringComparison.Ordinal));
        Assert.Null(w.Api.Get("serviceentries", "default", "big"));
    }

    [Fact]
    public async Task ServiceEntryOf256Hosts_PassesTheCrdSchema()
    {
        await using var w = await ClusterWebhook.StartAsync();
        w.Api.Admission = new FakeAdmissionChain(w.Webhook, FakeAdmissionChain.IstioCrdsOf("crd-all.istio-1.32-dev.yaml"));
        await w.WaitForServerStateAsync();

        var write = Assert.Single(await w.Api.KubectlApplyAsync(Entry(256)));

        Assert.True(write.Allowed, write.ToString());
        Assert.DoesNotContain(write.Warnings, x => x.StartsWith("EGW413", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServiceEntryOf257Hosts_CrdsWithoutTheLimits_IsRefusedByEgw210()
    {
        await using var w = await ClusterWebhook.StartAsync();
        w.Api.Admission = new FakeAdmissionChain(w.Webhook);
        await w.WaitForServerStateAsync();

        var write = Assert.Single(await w.Api.KubectlApplyAsync(Entry(257)));

        Assert.False(write.Allowed);
        Assert.Equal(403, write.Code);
        Assert.Contains("1 broken egress link\nEGW210 ServiceEntry default/big (spec.hosts): 257 items, more than Istio's CRD allows (256)", write.Message, StringComparison.Ordinal);
        Assert.Null(w.Api.Get("serviceentries", "default", "big"));
    }
}
