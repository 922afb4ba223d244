using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using static EgressWebhook.Core.Tests.Rules.Guardrails.GuardrailFixtures;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>EGW308: an EgressPolicy that cannot be enforced, always an error on the policy.</summary>
public sealed class Egw308PolicyInvalidTests
{
    private static List<Finding> Egw308(EgressReport report) => Of(report, RuleIds.PolicyInvalid);

    [Fact]
    public void Egw308_BadGlob_IsAnErrorOnTheGlobNamingTheFix()
    {
        var report = Check(PolicyYaml("bad-glob", "allow: [{hosts: [\"api.*.com\"]}]"));

        var finding = Assert.Single(Egw308(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(new ObjectRef("EgressPolicy", "", "bad-glob"), finding.Object);
        Assert.Equal("spec.allow[0].hosts[0]", finding.Path);
        Assert.Equal("\"api.*.com\" is not a host or a *. glob; write api.example.com or *.example.com", finding.Message);
    }

    [Fact]
    public void Egw308_NearMiss_ValidPolicy()
    {
        var spec = """
            action: Warn
            allow: [{hosts: ["*.example.com", api.other.com], ports: [443], protocols: [tls, HTTPS]}]
            requiredGateway: istio-system/istio-egressgateway
            wildcards: {forbid: true, allowed: ["*.example.com"]}
            exportTo: {allowed: [self, ".", "*", "~", istio-system]}
            sidecar: {forbidAllowAny: true}
            meshInternal: {requireClusterService: true}
            exceptions: {groups: [platform-admins], serviceAccounts: [platform/break-glass]}
            """;

        var report = Check(PolicyYaml("valid", spec));

        Assert.Empty(Egw308(report));
    }

    [Theory]
    [InlineData("action: Block", "spec.action", "action \"Block\" is not Deny, Warn or Audit; use one of them")]
    [InlineData("namespaceSelector: {matchExpressions: [{key: \"\", operator: Exists}]}", "spec.namespaceSelector.matchExpressions[0].key", "no key")]
    [InlineData("namespaceSelector: {matchExpressions: [{key: team, operator: In}]}", "spec.namespaceSelector.matchExpressions[0].values", "operator In without values")]
    [InlineData("namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: []}]}", "spec.namespaceSelector.matchExpressions[0].values", "operator NotIn without values")]
    [InlineData("namespaceSelector: {matchExpressions: [{key: team, operator: Exists, values: [a]}]}", "spec.namespaceSelector.matchExpressions[0].values", "takes no values; remove them")]
    [InlineData("namespaceSelector: {matchExpressions: [{key: team, operator: DoesNotExist, values: [a]}]}", "spec.namespaceSelector.matchExpressions[0].values", "takes no values")]
    [InlineData("namespaceSelector: {matchExpressions: [{key: team, operator: Equals, values: [a]}]}", "spec.namespaceSelector.matchExpressions[0].operator", "\"Equals\" is not In, NotIn, Exists or DoesNotExist")]
    [InlineData("allow: [{ports: [443]}]", "spec.allow[0].hosts", "without hosts allows nothing; list hosts or remove it")]
    [InlineData("allow: [{hosts: [API.example.com]}]", "spec.allow[0].hosts[0]", "is not a host or a *. glob")]
    [InlineData("allow: [{hosts: [\"*example.com\"]}]", "spec.allow[0].hosts[0]", "is not a host or a *. glob")]
    [InlineData("allow: [{hosts: [a.example.com, \"\"]}]", "spec.allow[0].hosts[1]", "is not a host or a *. glob")]
    [InlineData("allow: [{hosts: [a.example.com]}, {hosts: [b.example.com], ports: [0]}]", "spec.allow[1].ports[0]", "port 0 is outside 1..65535; fix the port")]
    [InlineData("allow: [{hosts: [a.example.com], ports: [443, 65536]}]", "spec.allow[0].ports[1]", "port 65536 is outside")]
    [InlineData("allow: [{hosts: [a.example.com], protocols: [QUIC]}]", "spec.allow[0].protocols[0]", "\"QUIC\" is not an Istio protocol")]
    [InlineData("requiredGateway: istio-egressgateway", "spec.requiredGateway", "is not namespace/name of the egress gateway Service")]
    [InlineData("requiredGateway: a/b/c", "spec.requiredGateway", "is not namespace/name")]
    [InlineData("requiredGateway: istio-system/gw\nrequiredWaypoint: {namespace: istio-egress, name: wp}", "spec.requiredWaypoint", "both set")]
    [InlineData("requiredWaypoint: {namespace: Istio_Egress, name: wp}", "spec.requiredWaypoint.namespace", "is not a namespace name")]
    [InlineData("requiredWaypoint: {name: wp}", "spec.requiredWaypoint.namespace", "is not a namespace name")]
    [InlineData("requiredWaypoint: {namespace: istio-egress, name: \"-wp\"}", "spec.requiredWaypoint.name", "is not a Gateway name")]
    [InlineData("wildcards: {allowed: [\"*.example.com\"]}", "spec.wildcards.allowed", "listed as allowed but not forbidden")]
    [InlineData("wildcards: {forbid: true, allowed: [api.example.com]}", "spec.wildcards.allowed[0]", "is not a wildcard host; write *.example.com")]
    [InlineData("allow: [{hosts: [\"*.example.com\"]}]\nwildcards: {forbid: true, allowed: [\"*.other.com\"]}", "spec.wildcards.allowed[0]", "outside every spec.allow host")]
    [InlineData("exportTo: {allowed: []}", "spec.exportTo.allowed", "no exportTo value is allowed")]
    [InlineData("exportTo: {allowed: [self, Team_B]}", "spec.exportTo.allowed[1]", "\"Team_B\" is not self, * or a namespace name")]
    [InlineData("exceptions: {serviceAccounts: [break-glass]}", "spec.exceptions.serviceAccounts[0]", "is not namespace/name; e.g. platform/break-glass")]
    [InlineData("allow: []\nrequiredGateway: istio-system/istio-egressgateway", "spec.requiredGateway", "allow is empty")]
    [InlineData("allow: []\nrequiredWaypoint: {namespace: istio-egress, name: wp}", "spec.requiredWaypoint", "allow is empty")]
    public void Egw308_StructuralProblem_IsReportedOnItsField(string spec, string path, string message)
    {
        var report = Check(PolicyYaml("p", spec, ns: null));

        var finding = Assert.Single(Egw308(report));
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal(path, finding.Path);
        Assert.Contains(message, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw308_WarnPolicy_IsStillAnError()
    {
        var report = Check(PolicyYaml("p", "action: Warn\nallow: [{hosts: [\"api.*.com\"]}]"));

        Assert.Equal(Severity.Error, Assert.Single(Egw308(report)).Severity);
    }

    [Fact]
    public void Egw308_SeveralProblems_EachReported()
    {
        var report = Check(PolicyYaml("p", "action: Block\nallow: [{hosts: [\"a.*\", \"b.*\"]}]"));

        Assert.Equal(["spec.action", "spec.allow[0].hosts[0]", "spec.allow[0].hosts[1]"], Egw308(report).Select(f => f.Path).Order(StringComparer.Ordinal));
    }

    private static readonly string ViaGateway = PolicyYaml("via-gateway", "requiredGateway: istio-system/istio-egressgateway");

    [Fact]
    public void Egw308_RequiredGatewayNamesNoService_WhenTheInputHoldsServices()
    {
        var report = Check(ViaGateway, Service("other", "istio-system"));

        var finding = Assert.Single(Egw308(report));
        Assert.Equal("spec.requiredGateway", finding.Path);
        Assert.StartsWith("requiredGateway istio-system/istio-egressgateway names no Service", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; fix the name or install the gateway", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw308_NearMiss_RequiredGatewayServiceExists()
    {
        var report = Check(ViaGateway, EgressGatewayService);

        Assert.Empty(Egw308(report));
    }

    [Fact]
    public void Egw308_RequiredGateway_PartialManifestWithoutServices_IsNoEvidence()
    {
        Assert.Empty(Egw308(Check(ViaGateway)));
        Assert.Single(Egw308(Check(RuleSettings.Default with { WholeCluster = true }, ViaGateway)));
    }

    private static readonly string ViaWaypoint = PolicyYaml("via-waypoint", "requiredWaypoint: {namespace: istio-egress, name: egress-waypoint}");

    [Fact]
    public void Egw308_RequiredWaypointNamesNoGateway_WhenTheInputHoldsGateways()
    {
        var report = Check(ViaWaypoint, Waypoint("other-waypoint", "istio-egress"));

        var finding = Assert.Single(Egw308(report));
        Assert.Equal("spec.requiredWaypoint", finding.Path);
        Assert.StartsWith("requiredWaypoint istio-egress/egress-waypoint names no Gateway", finding.Message, StringComparison.Ordinal);
        Assert.EndsWith("; fix the name or istioctl waypoint apply", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Egw308_RequiredWaypoint_PartialManifestWithoutGateways_IsNoEvidence()
    {
        Assert.Empty(Egw308(Check(ViaWaypoint)));
        Assert.Single(Egw308(Check(RuleSettings.Default with { WholeCluster = true }, ViaWaypoint)));
    }

    [Fact]
    public void Egw308_RequiredWaypointOfAnotherClass_NamesTheClassAndTheGateway()
    {
        var report = Check(ViaWaypoint, Waypoint("egress-waypoint", "istio-egress", gatewayClass: "istio"));

        var finding = Assert.Single(Egw308(report));
        Assert.Equal("spec.requiredWaypoint", finding.Path);
        Assert.Equal("requiredWaypoint istio-egress/egress-waypoint is class istio, not istio-waypoint; name a waypoint", finding.Message);
        Assert.Contains(finding.Related, r => r.Namespace == "istio-egress" && r.Name == "egress-waypoint");
    }

    [Fact]
    public void Egw308_NearMiss_RequiredWaypointExists()
    {
        var report = Check(ViaWaypoint, Waypoint("egress-waypoint", "istio-egress"));

        Assert.Empty(Egw308(report));
    }
}
