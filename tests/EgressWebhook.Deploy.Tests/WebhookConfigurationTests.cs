using System.Text.Json;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>The webhook configurations of every overlay: they reach the server's routes through the Service,
/// cover what the issue lists, and can never lock the cluster.</summary>
public sealed class WebhookConfigurationTests
{
    private const string GuardName = "guard.egress.istio.io";

    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void WebhookConfigurations_OneValidatingAndOneMutating(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);

        Assert.Single(rendered.OfKind("ValidatingWebhookConfiguration"));
        Assert.Single(rendered.OfKind("MutatingWebhookConfiguration"));
        Assert.All(rendered.WebhookConfigurations, c => Assert.NotEmpty(c.Json.Items("webhooks")));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Webhooks_CallTheServerRoutesThroughTheServiceOnTheAdmissionPort(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);

        foreach (var (configuration, webhook) in rendered.Webhooks)
        {
            var what = $"{configuration} webhook {webhook.Str("name")}";
            Assert.True(webhook.At("clientConfig", "url") is null, $"{what}: clientConfig.url bypasses the Service");
            var reference = webhook.At("clientConfig", "service") ?? throw new Xunit.Sdk.XunitException($"{what}: no clientConfig.service");

            var service = rendered.Get("Service", reference.Str("namespace"), reference.Str("name")!);
            Assert.Equal(ServerContract.ServiceName, service.Name);
            Assert.Equal(ServerContract.Namespace, service.Namespace);

            var expectedPath = configuration.Kind == "ValidatingWebhookConfiguration" ? ServerContract.ValidatePath : ServerContract.MutatePath;
            Assert.Equal(expectedPath, reference.Str("path"));

            // An absent port means 443 to the API server.
            var port = reference.Int("port") ?? 443;
            Assert.Equal(ServerContract.ServicePort, port);
            var servicePort = Assert.Single(service.Spec.Items("ports"), p => p.Int("port") == port);
            Assert.Equal(ServerContract.AdmissionPort, rendered.ResolveContainerPort(servicePort.At("targetPort") ?? servicePort.At("port")!.Value));
            Assert.True(LabelSelector.Matches(service.Spec.At("selector") is { } sel ? WrapMatchLabels(sel) : null, rendered.PodLabels),
                $"{service} does not select the webhook pods");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Webhooks_AdmissionReviewV1_NoSideEffects_ShortTimeout(string overlay)
    {
        foreach (var (configuration, webhook) in Rendered.Overlay(overlay).Webhooks)
        {
            Assert.Equal(["v1"], webhook.Strings("admissionReviewVersions"));
            Assert.Equal("None", webhook.Str("sideEffects"));
            var timeout = webhook.Int("timeoutSeconds") ?? 10;
            Assert.InRange(timeout, 1, 10);
            Assert.True(webhook.Str("name")!.Count(c => c == '.') >= 2, $"{configuration}: webhook names must be fully qualified");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ValidatingWebhook_CoversEveryIstioKindInEveryVersionOnCreateUpdateDelete(string overlay)
    {
        var webhook = Assert.Single(Rendered.Overlay(overlay).Single("ValidatingWebhookConfiguration").Json.Items("webhooks"), w => w.Str("name") == "validate.egress.istio.io");

        var expected = (from resource in ServerContract.ValidatedResources
                        from version in ServerContract.IstioVersions
                        from operation in new[] { "CREATE", "UPDATE", "DELETE" }
                        select ("networking.istio.io", version, resource, operation)).ToHashSet();
        Assert.Equal(expected.Order(), Expand(webhook).Order());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void MutatingWebhook_ServiceEntryCreateAndUpdate_ReinvokedIfNeeded(string overlay)
    {
        var webhook = Assert.Single(Rendered.Overlay(overlay).Single("MutatingWebhookConfiguration").Json.Items("webhooks"));

        var expected = (from version in ServerContract.IstioVersions
                        from operation in new[] { "CREATE", "UPDATE" }
                        select ("networking.istio.io", version, "serviceentries", operation)).ToHashSet();
        Assert.Equal(expected.Order(), Expand(webhook).Order());
        Assert.Equal("IfNeeded", webhook.Str("reinvocationPolicy"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Webhooks_SkipKubeSystemAndTheirOwnNamespace_ButSeeIstioAndWorkloadNamespaces(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);

        foreach (var (configuration, webhook) in rendered.Webhooks.Where(w => w.Webhook.Str("name") != GuardName))
        {
            var selector = webhook.At("namespaceSelector");
            foreach (var excluded in new[] { "kube-system", rendered.WebhookNamespace })
            {
                Assert.False(LabelSelector.Matches(selector, LabelSelector.NamespaceLabels(excluded)),
                    $"{configuration}: namespace {excluded} is not excluded");
            }

            foreach (var included in new[] { ServerContract.IstioRootNamespace, "default", "shop" })
            {
                Assert.True(LabelSelector.Matches(selector, LabelSelector.NamespaceLabels(included)),
                    $"{configuration}: namespace {included} is excluded but must be checked");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Webhooks_NeverSeeNamespaceTeardownOrGarbageCollection(string overlay)
    {
        // A deletion by the namespace controller that waits on a webhook that is down (or objects) would
        // leave the namespace Terminating for good.
        // the generator guard only ever sees the webhook's own ServiceAccount (GeneratorGuard_* below)
        foreach (var (configuration, webhook) in Rendered.Overlay(overlay).Webhooks.Where(w => w.Webhook.Str("name") != GuardName))
        {
            var expressions = string.Join("\n", webhook.Items("matchConditions").Select(c => c.Str("expression")));
            Assert.Contains("'system:serviceaccount:kube-system:namespace-controller'", expressions);
            Assert.Contains("'system:serviceaccount:kube-system:generic-garbage-collector'", expressions);
            Assert.StartsWith("!(request.userInfo.username in", expressions.TrimStart());
        }
    }

    [Fact]
    public void GeneratorGuard_SeesEveryWriteOfTheServiceAccountToWhatItMayWrite_InEveryNamespace_AndNothingElse()
    {
        var rendered = Rendered.Overlay("default");
        var configuration = rendered.Single("ValidatingWebhookConfiguration");
        var guard = Assert.Single(configuration.Json.Items("webhooks"), w => w.Str("name") == GuardName);

        // no namespaceSelector: kube-system and the webhook's own namespace too, which validate.egress.istio.io skips
        Assert.Null(guard.At("namespaceSelector"));
        Assert.Null(guard.At("objectSelector"));
        Assert.Equal(ServerContract.ValidatePath, guard.Str("clientConfig", "service", "path"));
        Assert.Equal("Fail", guard.Str("failurePolicy"));
        Assert.Equal(5, guard.Int("timeoutSeconds"));
        Assert.Equal("None", guard.Str("sideEffects"));

        // the one condition: the username of the ServiceAccount the pods run as, exactly
        var account = rendered.PodSpec.Str("serviceAccountName");
        var condition = Assert.Single(guard.Items("matchConditions"));
        Assert.Equal($"request.userInfo.username == 'system:serviceaccount:{rendered.WebhookNamespace}:{account}'", condition.Str("expression")!.Trim());

        // exactly the resources the ServiceAccount may write, on every operation that writes them
        var written = rendered.OfKind("ClusterRole")
            .Where(r => rendered.OfKind("ClusterRoleBinding").Any(b => b.Json.Str("roleRef", "name") == r.Name
                && b.Json.Items("subjects").Any(s => s.Str("kind") == "ServiceAccount" && s.Str("name") == account && s.Str("namespace") == rendered.WebhookNamespace)))
            .SelectMany(r => r.Json.Items("rules"))
            .Where(rule => rule.Strings("apiGroups").Contains("networking.istio.io") && rule.Strings("verbs").Any(v => v is "create" or "update" or "patch" or "delete"))
            .SelectMany(rule => rule.Strings("resources")).ToHashSet();
        Assert.Equal(["destinationrules", "gateways", "virtualservices"], written.Order());
        var expected = (from resource in written
                        from version in ServerContract.IstioVersions
                        from operation in new[] { "CREATE", "UPDATE", "DELETE" }
                        select ("networking.istio.io", version, resource, operation)).ToHashSet();
        Assert.Equal(expected.Order(), Expand(guard).Order());

        // the caBundle of the whole configuration is injected, the guard's included
        Assert.Equal("egress-webhook/egress-webhook-serving", configuration.Json.Str("metadata", "annotations", "cert-manager.io/inject-ca-from"));
    }

    [Fact]
    public void GeneratorGuard_DroppedInAuditOnly_WhereTheServiceAccountCannotWrite()
    {
        var rendered = Rendered.Overlay("audit-only");

        Assert.DoesNotContain(rendered.Webhooks, w => w.Webhook.Str("name") == GuardName);
        Assert.DoesNotContain(rendered.OfKind("ClusterRole").SelectMany(r => r.Json.Items("rules")),
            rule => rule.Strings("apiGroups").Contains("networking.istio.io") && rule.Strings("verbs").Any(v => v is "create" or "update" or "patch" or "delete"));
    }

    [Fact]
    public void DefaultOverlay_Enforces()
    {
        var rendered = Rendered.Overlay("default");

        Assert.All(rendered.Webhooks, w => Assert.Equal("Fail", w.Webhook.Str("failurePolicy")));
        var config = rendered.ConfigData();
        Assert.Equal("false", config[ServerContract.Env.WarnOnly]);
        Assert.Equal("Deny", config[ServerContract.Env.FailureMode]);
    }

    [Fact]
    public void AuditOnlyOverlay_NeverDenies()
    {
        var rendered = Rendered.Overlay("audit-only");

        Assert.All(rendered.Webhooks, w => Assert.Equal("Ignore", w.Webhook.Str("failurePolicy")));
        var config = rendered.ConfigData();
        Assert.Equal("true", config[ServerContract.Env.WarnOnly]);
        Assert.Equal("Allow", config[ServerContract.Env.FailureMode]);
        Assert.Equal("Allow", config[ServerContract.Env.WhenNotSynced]);
    }

    /// <summary>Every (group, version, resource, operation) the webhook's rules match; wildcards fail.</summary>
    private static IEnumerable<(string, string, string, string)> Expand(JsonElement webhook)
    {
        foreach (var rule in webhook.Items("rules"))
        {
            var lists = new[] { "apiGroups", "apiVersions", "resources", "operations" }.Select(field => rule.Strings(field)).ToArray();
            Assert.All(lists.SelectMany(l => l), v => Assert.DoesNotContain("*", v));
            Assert.Equal("Namespaced", rule.Str("scope"));
            foreach (var group in lists[0])
            {
                foreach (var version in lists[1])
                {
                    foreach (var resource in lists[2])
                    {
                        foreach (var operation in lists[3])
                        {
                            yield return (group, version, resource, operation);
                        }
                    }
                }
            }
        }
    }

    private static JsonElement WrapMatchLabels(JsonElement serviceSelector) =>
        JsonDocument.Parse($"{{\"matchLabels\":{serviceSelector.GetRawText()}}}").RootElement.Clone();
}
