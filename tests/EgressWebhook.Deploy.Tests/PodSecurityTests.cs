using System.Text.Json;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>Hardened pods (the "restricted" Pod Security Standard and more) and a Deployment that stays
/// available: replicas, anti-affinity, a disruption budget, probes on the server's health routes.</summary>
public sealed class PodSecurityTests
{
    private static readonly string[] WorkloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"];

    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryContainer_NonRoot_ReadOnlyRoot_NoCapabilities_RuntimeDefaultSeccomp_WithResources(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var workloads = rendered.Objects.Where(o => WorkloadKinds.Contains(o.Kind)).ToArray();
        Assert.NotEmpty(workloads);

        foreach (var workload in workloads)
        {
            var pod = PodSpecOf(workload);
            Assert.NotEqual(true, pod.Bool("hostNetwork"));
            Assert.NotEqual(true, pod.Bool("hostPID"));
            Assert.NotEqual(true, pod.Bool("hostIPC"));
            Assert.DoesNotContain(pod.Items("volumes"), v => v.At("hostPath") is not null);

            var containers = pod.Items("initContainers").Concat(pod.Items("containers")).ToArray();
            Assert.NotEmpty(containers);
            foreach (var container in containers)
            {
                var what = $"{workload} container {container.Str("name")}";
                bool? Effective(string field) => container.Bool("securityContext", field) ?? pod.Bool("securityContext", field);

                Assert.True(Effective("runAsNonRoot") == true, $"{what}: runAsNonRoot");
                var uid = container.Int("securityContext", "runAsUser") ?? pod.Int("securityContext", "runAsUser");
                Assert.True(uid is null or > 0, $"{what}: runs as uid 0");
                Assert.True(container.Bool("securityContext", "readOnlyRootFilesystem") == true, $"{what}: readOnlyRootFilesystem");
                Assert.True(container.Bool("securityContext", "allowPrivilegeEscalation") == false, $"{what}: allowPrivilegeEscalation");
                Assert.NotEqual(true, container.Bool("securityContext", "privileged"));
                Assert.Contains("ALL", container.Strings("securityContext", "capabilities", "drop"));
                Assert.Empty(container.Items("securityContext", "capabilities", "add"));
                var seccomp = container.Str("securityContext", "seccompProfile", "type") ?? pod.Str("securityContext", "seccompProfile", "type");
                Assert.True(seccomp == "RuntimeDefault", $"{what}: seccompProfile {seccomp ?? "unset"}");

                foreach (var bound in new[] { "requests", "limits" })
                {
                    foreach (var resource in new[] { "cpu", "memory" })
                    {
                        Assert.True(container.Str("resources", bound, resource) is not null, $"{what}: no {bound}.{resource}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Pod_RunsAsTheImageUser(string overlay)
    {
        // The chiseled image's "app" user; the Dockerfile test checks the image declares the same.
        var rendered = Rendered.Overlay(overlay);

        Assert.Equal(ServerContract.AppUserId, rendered.PodSpec.Int("securityContext", "runAsUser"));
        Assert.All(rendered.Containers, c => Assert.Equal(ServerContract.AppUserId, c.Int("securityContext", "runAsUser") ?? ServerContract.AppUserId));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Deployment_TwoReplicasOnDifferentNodes_ProtectedByADisruptionBudget(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var deployment = rendered.Deployment;

        Assert.True(deployment.Spec.Int("replicas") >= 2, "at least two replicas");
        Assert.Equal("0", deployment.Spec.Str("strategy", "rollingUpdate", "maxUnavailable"));

        var antiAffinity = rendered.PodSpec.At("affinity", "podAntiAffinity") ?? throw new Xunit.Sdk.XunitException("no podAntiAffinity");
        var terms = antiAffinity.Items("preferredDuringSchedulingIgnoredDuringExecution").Select(t => t.At("podAffinityTerm")!.Value)
            .Concat(antiAffinity.Items("requiredDuringSchedulingIgnoredDuringExecution")).ToArray();
        Assert.Contains(terms, t => t.Str("topologyKey") == "kubernetes.io/hostname" && LabelSelector.Matches(t.At("labelSelector"), rendered.PodLabels));

        var budget = rendered.Single("PodDisruptionBudget");
        Assert.Equal(rendered.WebhookNamespace, budget.Namespace);
        Assert.True(LabelSelector.Matches(budget.Spec.At("selector"), rendered.PodLabels), "the PodDisruptionBudget does not select the webhook pods");
        var minAvailable = budget.Spec.Int("minAvailable");
        Assert.True(minAvailable is >= 1 && minAvailable < deployment.Spec.Int("replicas"), "minAvailable must keep one pod and still allow a drain");
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Probes_UseTheServerHealthRoutesOnTheHealthPort(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var container = Assert.Single(rendered.Containers);

        AssertProbe(rendered, container, "readinessProbe", ServerContract.ReadyPath);
        AssertProbe(rendered, container, "livenessProbe", ServerContract.LivePath);
        var ports = container.Items("ports").Select(p => p.Int("containerPort")).ToArray();
        Assert.Contains(ServerContract.AdmissionPort, ports);
        Assert.Contains(ServerContract.HealthPort, ports);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Pod_MountsTheServingSecret_HasAWritableTmp_AndIsConfiguredForTheCluster(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var container = Assert.Single(rendered.Containers);
        var volumes = rendered.PodSpec.Items("volumes").ToDictionary(v => v.Str("name")!);
        var mounts = container.Items("volumeMounts").ToDictionary(m => m.Str("mountPath")!);

        var tls = mounts[ServerContract.TlsMountPath];
        Assert.True(tls.Bool("readOnly"));
        Assert.Equal(ServerContract.TlsSecret, volumes[tls.Str("name")!].Str("secret", "secretName"));

        var tmp = mounts["/tmp"];
        Assert.NotEqual(true, tmp.Bool("readOnly"));
        Assert.NotNull(volumes[tmp.Str("name")!].At("emptyDir"));
        var env = container.Items("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));
        Assert.Equal("/tmp", env["TMPDIR"]);

        var config = rendered.ConfigData();
        Assert.Equal("Cluster", config[ServerContract.Env.Source]);
        Assert.Equal($"{ServerContract.TlsMountPath}/tls.crt", config[ServerContract.Env.CertificateFile]);
        Assert.Equal($"{ServerContract.TlsMountPath}/tls.key", config[ServerContract.Env.KeyFile]);
        Assert.Equal(ServerContract.HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture), config[ServerContract.Env.HealthPort]);
        Assert.All(config.Keys, k => Assert.Matches("^[A-Za-z_][A-Za-z0-9_]*$", k));

        Assert.Equal(ServerContract.ServiceAccount, rendered.PodSpec.Str("serviceAccountName"));
        rendered.Get("ServiceAccount", rendered.WebhookNamespace, ServerContract.ServiceAccount);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Pod_GivesTheGeneratorItsLeaseIdentity_FromTheDownwardApi(string overlay)
    {
        var container = Assert.Single(Rendered.Overlay(overlay).Containers);
        var env = container.Items("env").ToDictionary(e => e.Str("name")!);

        // the Lease holder identity must differ per replica, and the Lease lives in the pod's own namespace
        Assert.Equal("metadata.name", env["POD_NAME"].Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].Str("valueFrom", "fieldRef", "fieldPath"));
    }

    private static void AssertProbe(Rendered rendered, JsonElement container, string probe, string path)
    {
        var get = container.At(probe, "httpGet") ?? throw new Xunit.Sdk.XunitException($"no {probe}.httpGet");
        Assert.Equal(path, get.Str("path"));
        Assert.Equal("HTTP", get.Str("scheme") ?? "HTTP");
        Assert.Equal(ServerContract.HealthPort, rendered.ResolveContainerPort(get.At("port")!.Value));
    }

    private static JsonElement PodSpecOf(K8sObject workload) => workload.Kind switch
    {
        "Pod" => workload.Spec,
        "CronJob" => workload.Json.At("spec", "jobTemplate", "spec", "template", "spec")!.Value,
        _ => workload.Json.At("spec", "template", "spec")!.Value,
    };
}
