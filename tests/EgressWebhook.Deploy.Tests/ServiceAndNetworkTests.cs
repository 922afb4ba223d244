using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>The Service, the NetworkPolicy and where every object lands.</summary>
public sealed class ServiceAndNetworkTests
{
    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Service_443ToTheAdmissionPort_SelectsTheWebhookPods(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var service = rendered.Get("Service", ServerContract.Namespace, ServerContract.ServiceName);

        var selector = service.Spec.Map("selector");
        Assert.NotEmpty(selector);
        Assert.All(selector, l => Assert.Equal(l.Value, rendered.PodLabels.GetValueOrDefault(l.Key)));
        var https = Assert.Single(service.Spec.Items("ports"), p => p.Int("port") == ServerContract.ServicePort);
        Assert.Equal(ServerContract.AdmissionPort, rendered.ResolveContainerPort(https.At("targetPort")!.Value));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void NetworkPolicy_LetsInOnlyAdmissionAndMetrics(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var policy = rendered.Single("NetworkPolicy");

        Assert.Equal(rendered.WebhookNamespace, policy.Namespace);
        Assert.True(LabelSelector.Matches(policy.Spec.At("podSelector"), rendered.PodLabels), "the NetworkPolicy does not select the webhook pods");
        Assert.Contains("Ingress", policy.Spec.Strings("policyTypes"));

        var ports = new HashSet<long>();
        foreach (var rule in policy.Spec.Items("ingress"))
        {
            var rulePorts = rule.Items("ports");
            Assert.True(rulePorts.Count > 0, "an ingress rule without ports lets in every port");
            foreach (var port in rulePorts)
            {
                Assert.Equal("TCP", port.Str("protocol") ?? "TCP");
                Assert.Null(port.At("endPort"));
                ports.Add(rendered.ResolveContainerPort(port.At("port")!.Value) ?? throw new Xunit.Sdk.XunitException($"port {port} is not a container port"));
            }
        }

        Assert.Equal(new long[] { ServerContract.HealthPort, ServerContract.AdmissionPort }, ports.Order());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Objects_LiveInTheWebhookNamespace_ExceptTheMeshConfigGrant(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);

        var ns = rendered.Get("Namespace", null, ServerContract.Namespace);
        Assert.Equal("restricted", ns.Json.Map("metadata", "labels").GetValueOrDefault("pod-security.kubernetes.io/enforce"));
        Assert.Equal(ServerContract.Namespace, rendered.WebhookNamespace);

        string[] clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "CustomResourceDefinition"];
        foreach (var o in rendered.Objects)
        {
            if (clusterScoped.Contains(o.Kind))
            {
                Assert.Null(o.Namespace);
            }
            else if (o.Kind is "Role" or "RoleBinding" && o.Namespace == ServerContract.IstioRootNamespace)
            {
                Assert.All(o.Kind == "Role" ? o.Json.Items("rules") : [], r => Assert.Equal(["configmaps"], r.Strings("resources")));
            }
            else
            {
                Assert.True(o.Namespace == ServerContract.Namespace, $"{o} is not in {ServerContract.Namespace}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Pods_GetNoIstioSidecar(string overlay)
    {
        // The API server calls the webhook directly; the webhook must keep working while the mesh is broken.
        var rendered = Rendered.Overlay(overlay);

        Assert.Equal("false", rendered.PodLabels.GetValueOrDefault("sidecar.istio.io/inject"));
        Assert.Equal("disabled", rendered.Get("Namespace", null, ServerContract.Namespace).Json.Map("metadata", "labels").GetValueOrDefault("istio-injection"));
    }
}
