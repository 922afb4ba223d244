using System.Globalization;
using System.Text.Json.Nodes;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>The manifests' side of the hardening: the drain fits the grace period, the default overlay authenticates
/// the API server by a client certificate of its own CA, metrics are reachable from the monitoring namespace only, and
/// the generator's ServiceAccount is known to the server.</summary>
public sealed class HardeningTests
{
    /// <summary>Between the end of the server's shutdown timeout and the kubelet's SIGKILL.</summary>
    private const double MarginSeconds = 10;

    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Drain_DelayAndInFlightRequests_FitTheShutdownTimeout_WhichEndsWellBeforeTheGracePeriod(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var config = rendered.ConfigData();
        var delay = double.Parse(config[ServerContract.Env.ShutdownDelay], CultureInfo.InvariantCulture);
        var timeout = double.Parse(config[ServerContract.Env.ShutdownTimeout], CultureInfo.InvariantCulture);
        var grace = rendered.PodSpec.Int("terminationGracePeriodSeconds") ?? 30;
        var longestCall = rendered.Webhooks.Max(w => w.Webhook.Int("timeoutSeconds") ?? 10);

        Assert.InRange(delay, 3, 15);
        Assert.True(timeout >= delay + longestCall, $"shutdown timeout {timeout} s < delay {delay} s + the longest admission call {longestCall} s");
        Assert.True(grace >= timeout + MarginSeconds, $"terminationGracePeriodSeconds {grace} leaves less than {MarginSeconds} s after the {timeout} s shutdown timeout");
    }

    [Fact]
    public void DefaultOverlay_RequiresTheApiServersClientCertificate_FromACaOfItsOwn()
    {
        var rendered = Rendered.Overlay("default");
        var config = rendered.ConfigData();
        Assert.Equal("true", config[ServerContract.Env.RequireClientCertificate]);
        var caFile = config[ServerContract.Env.ClientCaFile];

        // the CA file is the ca.crt item of a mounted Secret, and nothing else of it (never the client key)
        var container = Assert.Single(rendered.Containers);
        var mount = Assert.Single(container.Items("volumeMounts"), m => caFile.StartsWith(m.Str("mountPath")! + "/", StringComparison.Ordinal));
        Assert.True(mount.Bool("readOnly"));
        var volume = Assert.Single(rendered.PodSpec.Items("volumes"), v => v.Str("name") == mount.Str("name"));
        var item = Assert.Single(volume.Items("secret", "items"));
        Assert.Equal("ca.crt", item.Str("key"));
        Assert.Equal(caFile, $"{mount.Str("mountPath")}/{item.Str("path")}");
        var secretName = volume.Str("secret", "secretName")!;

        // that Secret is a client-auth certificate, issued by a CA Issuer that is not the serving certificate's
        var client = Assert.Single(rendered.OfKind("Certificate"), c => c.Spec.Str("secretName") == secretName);
        Assert.Contains("client auth", client.Spec.Strings("usages"));
        Assert.DoesNotContain("server auth", client.Spec.Strings("usages"));
        var issuer = rendered.Get("Issuer", ServerContract.Namespace, client.Spec.Str("issuerRef", "name")!);
        var caSecret = issuer.Spec.Str("ca", "secretName");
        var ca = Assert.Single(rendered.OfKind("Certificate"), c => c.Spec.Str("secretName") == caSecret);
        Assert.True(ca.Spec.Bool("isCA"));
        var serving = Assert.Single(rendered.OfKind("Certificate"), c => c.Spec.Str("secretName") == ServerContract.TlsSecret);
        Assert.NotEqual(issuer.Name, serving.Spec.Str("issuerRef", "name"));
        Assert.NotEqual(ServerContract.TlsSecret, caSecret);
    }

    [Fact]
    public void AuditOnlyOverlay_AsksNoClientCertificate()
    {
        // audit-only is the first rollout step on every cluster, managed control planes included
        var config = Rendered.Overlay("audit-only").ConfigData();

        Assert.False(config.ContainsKey(ServerContract.Env.RequireClientCertificate));
        Assert.False(config.ContainsKey(ServerContract.Env.ClientCaFile));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void NetworkPolicy_HealthAndMetrics_OnlyFromTheMonitoringNamespace_AdmissionFromAnywhere(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var policy = rendered.Single("NetworkPolicy");

        foreach (var rule in policy.Spec.Items("ingress"))
        {
            var ports = rule.Items("ports").Select(p => rendered.ResolveContainerPort(p.At("port")!.Value)).ToArray();
            if (ports.Contains(ServerContract.HealthPort))
            {
                Assert.Equal([ServerContract.HealthPort], ports);
                var from = Assert.Single(rule.Items("from"));
                Assert.Null(from.At("ipBlock"));
                Assert.True(LabelSelector.Matches(from.At("namespaceSelector"), LabelSelector.NamespaceLabels("monitoring")));
                foreach (var other in new[] { "default", ServerContract.Namespace, "kube-system", ServerContract.IstioRootNamespace })
                {
                    Assert.False(LabelSelector.Matches(from.At("namespaceSelector"), LabelSelector.NamespaceLabels(other)), $"namespace {other} reaches the health port");
                }
            }
            else
            {
                // the API server is no pod: a pod or namespace selector cannot name it (docs/deploy.md)
                Assert.Equal([ServerContract.AdmissionPort], ports);
                Assert.Empty(rule.Items("from"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Pod_TellsTheServerItsServiceAccount_ForTheGeneratorGuard(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var env = Assert.Single(rendered.Containers).Items("env").ToDictionary(e => e.Str("name")!);

        Assert.Equal(ServerContract.ServiceAccount, rendered.PodSpec.Str("serviceAccountName"));
        Assert.Equal("spec.serviceAccountName", env["POD_SERVICE_ACCOUNT"].Str("valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].Str("valueFrom", "fieldRef", "fieldPath"));
    }

    [Fact]
    public void Overlays_DifferInEnforcement_ClientAuthTheGeneratorAndTheAudit_AndNothingElse()
    {
        var enforcing = Rendered.Overlay("default");
        var audit = Rendered.Overlay("audit-only");

        // objects of one overlay only: the client certificate chain (default), the generator's and the Events' grants (default)
        string[] clientAuth = ["Certificate egress-webhook/egress-webhook-client-ca", "Issuer egress-webhook/egress-webhook-client-ca", "Certificate egress-webhook/egress-webhook-apiserver-client"];
        string[] generatorGrants = ["ClusterRole egress-webhook-generate", "ClusterRoleBinding egress-webhook-generate", "Role egress-webhook/egress-webhook-leader-election", "RoleBinding egress-webhook/egress-webhook-leader-election",
            // nothing is admitted while awaited when every rule is a warning, so audit-only writes no EgressChainIncomplete Event
            "ClusterRole egress-webhook-events", "ClusterRoleBinding egress-webhook-events",
            // the background audit (off in audit-only): its PolicyReport writes (its Events and Lease share the grants above)
            "ClusterRole egress-webhook-policy-reports", "ClusterRoleBinding egress-webhook-policy-reports"];
        static IEnumerable<string> Names(Rendered r) => r.Objects.Where(o => o.Kind != "ConfigMap").Select(o => o.ToString());
        Assert.Equal(clientAuth.Concat(generatorGrants).Order(StringComparer.Ordinal), Names(enforcing).Except(Names(audit)).Order(StringComparer.Ordinal));
        Assert.Empty(Names(audit).Except(Names(enforcing)));

        // the rest is the same once failure policy, the client CA mount and the generator guard (default only) are set aside
        string Normalize(Rendered r) => string.Join("\n---\n", r.Objects
            .Where(o => o.Kind != "ConfigMap" && !clientAuth.Contains(o.ToString()) && !generatorGrants.Contains(o.ToString()))
            .Select(o => WithoutClientCaMount(o).Replace("\"failurePolicy\":\"Ignore\"", "\"failurePolicy\":\"Fail\"", StringComparison.Ordinal))
            .Select(t => System.Text.RegularExpressions.Regex.Replace(t, "egress-webhook-config-[a-z0-9]+", "egress-webhook-config")));
        Assert.Equal(Normalize(enforcing), Normalize(audit));

        // and the options differ only in these keys
        var a = enforcing.ConfigData();
        var b = audit.ConfigData();
        var differing = a.Keys.Union(b.Keys).Where(k => a.GetValueOrDefault(k) != b.GetValueOrDefault(k)).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { ServerContract.Env.AuditEnabled, ServerContract.Env.FailureMode, ServerContract.Env.GeneratorEnabled, ServerContract.Env.RequireClientCertificate,
            ServerContract.Env.ClientCaFile, ServerContract.Env.WarnOnly, ServerContract.Env.WhenNotSynced }.Order(StringComparer.Ordinal), differing);
    }

    private static string WithoutClientCaMount(K8sObject o)
    {
        if (o.Kind == "ValidatingWebhookConfiguration")
        {
            var configuration = JsonNode.Parse(o.Json.GetRawText())!;
            Remove(configuration["webhooks"]!.AsArray(), w => w["name"]!.GetValue<string>() == "guard.egress.istio.io");
            return configuration.ToJsonString();
        }

        if (o.Kind != "Deployment")
        {
            return o.Json.GetRawText();
        }

        var json = JsonNode.Parse(o.Json.GetRawText())!;
        var pod = json["spec"]!["template"]!["spec"]!;
        Remove(pod["volumes"]!.AsArray(), v => v["name"]!.GetValue<string>() == "client-ca");
        foreach (var c in pod["containers"]!.AsArray())
        {
            Remove(c!["volumeMounts"]!.AsArray(), m => m["name"]!.GetValue<string>() == "client-ca");
        }

        return json.ToJsonString();
    }

    private static void Remove(JsonArray array, Func<JsonNode, bool> match)
    {
        foreach (var item in array.Where(i => i is not null && match(i)).ToList())
        {
            array.Remove(item);
        }
    }
}
