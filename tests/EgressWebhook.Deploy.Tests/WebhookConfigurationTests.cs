using System.Text.Json;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>The webhook configurations of every overlay: they reach the server's routes through the Service,
/// cover what the issue lists, and can never lock the cluster.</summary>
public sealed class WebhookConfigurationTests
{
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
        var webhook = Assert.Single(Rendered.Overlay(overlay).Single("ValidatingWebhookConfiguration").Json.Items("webhooks"));

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

        foreach (var (configuration, webhook) in rendered.Webhooks)
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
        foreach (var (configuration, webhook) in Rendered.Overlay(overlay).Webhooks)
        {
            var expressions = string.Join("\n", webhook.Items("matchConditions").Select(c => c.Str("expression")));
            Assert.Contains("'system:serviceaccount:kube-system:namespace-controller'", expressions);
            Assert.Contains("'system:serviceaccount:kube-system:generic-garbage-collector'", expressions);
            Assert.StartsWith("!(request.userInfo.username in", expressions.TrimStart());
        }
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
