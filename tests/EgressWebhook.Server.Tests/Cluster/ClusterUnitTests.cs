using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Server.Cluster;

namespace EgressWebhook.Server.Tests.Cluster;

public sealed class ClusterUnitTests
{
    [Theory]
    [InlineData(RuleIds.DestinationHostNotRegistered, new[] { ResourceKind.ServiceEntry, ResourceKind.Service })]
    [InlineData(RuleIds.DestinationPortUnknown, new[] { ResourceKind.ServiceEntry, ResourceKind.Service })]
    [InlineData(RuleIds.VirtualServiceHostNotRegistered, new[] { ResourceKind.ServiceEntry, ResourceKind.Service })]
    [InlineData(RuleIds.GatewayReference, new[] { ResourceKind.Gateway })]
    [InlineData(RuleIds.SubsetNotFound, new[] { ResourceKind.DestinationRule })]
    [InlineData(RuleIds.IncompleteEgressChain, new[] { ResourceKind.VirtualService })]
    [InlineData(RuleIds.PassthroughPortChain, new ResourceKind[0])]
    public void FreshReads_ConfirmMissingObjectDenials_WithKindsTheCacheWatches(string rule, ResourceKind[] kinds)
    {
        Assert.Equal(kinds, AdmissionPipeline.Default.KindsFor(rule));
        var watched = ClusterResource.All("v1", "istio-system").Select(r => r.Kind).ToHashSet();
        Assert.All(AdmissionPipeline.Default.KindsFor(rule), k => Assert.Contains(k, watched));
    }

    [Fact]
    public async Task ClientConfiguration_PingsTheApiServerConnection()
    {
        var kubeconfig = await Fakes.FakeKubeconfig.WriteAsync("https://127.0.0.1:6443");
        try
        {
            var config = Microsoft.Extensions.DependencyInjection.ClusterServiceCollectionExtensions.ClientConfiguration(new ClusterOptions { Kubeconfig = kubeconfig });
            using var handler = new SocketsHttpHandler();

            Assert.NotNull(config.FirstMessageHandlerSetup);
            config.FirstMessageHandlerSetup(handler);

            Assert.Equal(TimeSpan.FromSeconds(30), handler.KeepAlivePingDelay);
            Assert.Equal(TimeSpan.FromSeconds(15), handler.KeepAlivePingTimeout);
            Assert.Equal(HttpKeepAlivePingPolicy.Always, handler.KeepAlivePingPolicy);
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    [Fact]
    public void Backoff_DoublesUpToTheCap_WithJitterInTheUpperHalf()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(42));

        var delays = Enumerable.Range(0, 8).Select(_ => backoff.Next().TotalMilliseconds).ToArray();

        double[] ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (var i = 0; i < delays.Length; i++)
        {
            Assert.InRange(delays[i], ceilings[i] / 2, ceilings[i]);
        }

        Assert.True(delays.Skip(4).Distinct().Count() > 1, "jitter varies the capped delays");
        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }

    [Theory]
    [InlineData("v1,v1beta1,v1alpha3", "v1")]
    [InlineData("v1alpha3,v1beta1", "v1beta1")]
    [InlineData("v1alpha3", "v1alpha3")]
    [InlineData("v2alpha1", null)]
    [InlineData("", null)]
    public void PickIstioVersion_PrefersV1(string served, string? expected)
    {
        Assert.Equal(expected, ClusterResource.PickIstioVersion(served.Split(',', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Resources_WatchOnlyTheMeshNamespacesConfigMaps_AndEverythingElseClusterWide()
    {
        var resources = ClusterResource.All("v1", "istio-system");

        Assert.Equal("api/v1/namespaces/istio-system/configmaps", resources.Single(r => r.Plural == "configmaps").CollectionPath);
        Assert.Equal("apis/networking.istio.io/v1/serviceentries", resources.Single(r => r.Plural == "serviceentries").CollectionPath);
        Assert.Equal("api/v1/services", resources.Single(r => r.Plural == "services").CollectionPath);
        Assert.Equal("apis/networking.istio.io/v1/namespaces/default/gateways/egress", resources.Single(r => r.Plural == "gateways").ItemPath("default", "egress"));
        Assert.Equal("api/v1/namespaces/default", resources.Single(r => r.Plural == "namespaces").ItemPath("", "default"));
    }
}
