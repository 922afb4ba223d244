using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>Headlines as kubectl shows them: <c>Warning: EGW102 VirtualService ns/name: message</c>, cut by Kubernetes at 120.</summary>
public sealed class FindingHeadlineTests
{
    private static Finding Of(string rule, ObjectRef obj, string message) => new(rule, Severity.Warning, obj, "spec", Finding.Clamp(message), []);

    [Fact]
    public void WarningLine_TargetPortHeadlineOfTheIssue_KeepsTheWholeFix()
    {
        // was shown as "…8443 is the targetPort of port 44…"
        var finding = Of(RuleIds.DestinationPortUnknown, new ObjectRef("VirtualService", "default", "direct-cnn-through-egress-gateway"),
            "port 8443 is not a port of Service istio-system/istio-egressgateway (ports: 80, 443); use 443, not its targetPort 8443");

        var line = finding.WarningLine();

        Assert.True((Finding.KubectlPrefix + line).Length <= Finding.MaxHeadline, line);
        Assert.EndsWith("; use 443, not its targetPort 8443", line, StringComparison.Ordinal);
        Assert.StartsWith("EGW102 VirtualService default/direct-cnn-", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WarningLine_GatewayLegHeadlineOfTheIssue_KeepsTheWholeFix()
    {
        // was shown as "…forwards edition.cnn.com b…"
        var finding = Of(RuleIds.IncompleteEgressChain, new ObjectRef("VirtualService", "team-payments", "egressgateway-to-external-edition-cnn"),
            "Gateway team-payments/istio-egressgateway forwards edition.cnn.com but no mesh rule sends it to the gateway; add the mesh leg");

        var line = finding.WarningLine();

        Assert.True((Finding.KubectlPrefix + line).Length <= Finding.MaxHeadline, line);
        Assert.EndsWith("; add the mesh leg", line, StringComparison.Ordinal);
        Assert.Contains("VirtualService team-payments/", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WarningLine_ShortHeadline_IsUnchanged()
    {
        var finding = Of(RuleIds.ServiceEntryNeedsAddresses, new ObjectRef("ServiceEntry", "default", "kafka"), "TCP port 9092 without addresses; set spec.addresses");

        Assert.Equal("EGW112 ServiceEntry default/kafka: TCP port 9092 without addresses; set spec.addresses", finding.WarningLine());
    }

    [Fact]
    public void Clamp_LongMessage_CutsTheDescriptionNotTheFix()
    {
        var message = new string('x', 150) + "; add istio-system to its exportTo";

        var clamped = Finding.Clamp(message);

        Assert.Equal(Finding.MaxHeadline, clamped.Length);
        Assert.EndsWith("…; add istio-system to its exportTo", clamped, StringComparison.Ordinal);
    }
}
