using EgressWebhook.Core.Serialization;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>The webhook's ServiceAccount gets exactly what the server uses: reads for the cache, writes for the
/// generated routing, Events for incomplete egress chains, the mesh config in Istio's namespace and a Lease in its own.</summary>
public sealed class RbacTests
{
    private const string ClusterWide = "*cluster*";
    private const string OwnNamespace = "*own*";

    private static readonly string[] Read = ["get", "list", "watch"];

    /// <summary>The reads the cluster source makes: one per watched row of the kind table (a new kind is granted here
    /// by its row), cluster-wide except the mesh ConfigMaps.</summary>
    private static readonly (string Scope, string Group, string Resource, string Verb)[] CacheReads =
    [
        .. KindTable.All.Where(k => k.Watch != KindWatch.None).SelectMany(k => Grants(k.Watch == KindWatch.MeshNamespace ? ServerContract.IstioRootNamespace : ClusterWide, k.Group, [k.Plural], Read)),
    ];

    /// <summary>The generator's writes: server-side apply (patch, and create for a new object) and delete.</summary>
    private static readonly string[] Write = ["create", "patch", "delete"];

    /// <summary>The reads, writes (server-side apply) and deletes of the background audit's reports.</summary>
    private static readonly HashSet<(string Scope, string Group, string Resource, string Verb)> PolicyReportGrants =
    [
        .. Grants(ClusterWide, "wgpolicyk8s.io", ["policyreports", "clusterpolicyreports"], ["list", "create", "patch", "delete"]),
    ];

    /// <summary>What the background audit needs when it is on: its reports, its Lease and the Events of incompleteness
    /// past the grace period.</summary>
    private static readonly HashSet<(string Scope, string Group, string Resource, string Verb)> AuditGrants =
    [
        .. PolicyReportGrants,
        .. Grants(OwnNamespace, "coordination.k8s.io", ["leases"], ["get", "create", "update"]),
        .. Grants(ClusterWide, "", ["events"], ["create"]),
    ];

    /// <summary>The server's default: on with the live-cluster source unless <c>Webhook__Audit__Enabled=false</c>.</summary>
    private static bool AuditOn(Rendered rendered) =>
        rendered.ConfigData().GetValueOrDefault(ServerContract.Env.AuditEnabled) is var enabled && enabled != "false" &&
        (enabled == "true" || rendered.ConfigData().GetValueOrDefault(ServerContract.Env.Source) == "Cluster");

    /// <summary>Everything the account may hold: (scope, API group, resource, verb).</summary>
    private static readonly HashSet<(string Scope, string Group, string Resource, string Verb)> Allowed =
    [
        .. Grants(ClusterWide, "networking.istio.io", ServerContract.ValidatedResources, Read),
        .. Grants(ClusterWide, "networking.istio.io", ["gateways", "virtualservices", "destinationrules"], Write),
        .. CacheReads,
        .. Grants(OwnNamespace, "coordination.k8s.io", ["leases"], ["get", "create", "update"]),
        // the grace-period re-check reports an incomplete egress chain as an Event on the object
        .. Grants(ClusterWide, "", ["events"], ["create"]),
        // the background audit's PolicyReports
        .. PolicyReportGrants,
    ];

    /// <summary>What the server cannot work without.</summary>
    private static readonly HashSet<(string Scope, string Group, string Resource, string Verb)> Required =
    [
        .. Grants(ClusterWide, "networking.istio.io", ServerContract.ValidatedResources, Read),
        .. CacheReads,
    ];

    /// <summary>What the generator needs: required when it is enabled, and not granted at all when it is not.</summary>
    private static readonly HashSet<(string Scope, string Group, string Resource, string Verb)> GeneratorGrants =
    [
        .. Grants(ClusterWide, "networking.istio.io", ["gateways", "virtualservices", "destinationrules"], ["create", "patch", "delete"]),
        .. Grants(OwnNamespace, "coordination.k8s.io", ["leases"], ["get", "create", "update"]),
        // the grace-period re-check reports an incomplete egress chain as an Event on the object
        .. Grants(ClusterWide, "", ["events"], ["create"]),
    ];

    public static TheoryData<string> Overlays => Rendered.Overlays();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ServiceAccount_HoldsNothingBeyondWhatTheServerUses(string overlay)
    {
        var granted = Granted(Rendered.Overlay(overlay));

        var extra = granted.Where(g => !Allowed.Contains(g) && !Allowed.Contains(g with { Scope = ClusterWide })).ToArray();
        Assert.True(extra.Length == 0, "granted beyond the list: " + string.Join(", ", extra));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ServiceAccount_HoldsEverythingTheServerUses(string overlay)
    {
        var granted = Granted(Rendered.Overlay(overlay));

        var generator = Rendered.Overlay(overlay).ConfigData().GetValueOrDefault(ServerContract.Env.GeneratorEnabled) == "true";
        var audit = AuditOn(Rendered.Overlay(overlay));

        var missing = Required.Concat(generator ? GeneratorGrants : []).Concat(audit ? AuditGrants : []).Where(r => !granted.Contains(r) && !granted.Contains(r with { Scope = ClusterWide })).ToArray();
        Assert.True(missing.Length == 0, "missing: " + string.Join(", ", missing));
    }

    [Fact]
    public void AuditOnly_GeneratorOff_ServiceAccountOnlyReads()
    {
        // audit-only writes nothing: a stolen token of the ServiceAccount cannot change routing anywhere
        var rendered = Rendered.Overlay("audit-only");

        Assert.Equal("false", rendered.ConfigData()[ServerContract.Env.GeneratorEnabled]);
        Assert.False(AuditOn(rendered));
        var writes = Granted(rendered).Where(g => g.Verb is not ("get" or "list" or "watch")).ToArray();
        Assert.True(writes.Length == 0, "audit-only grants: " + string.Join(", ", writes));
    }

    [Fact]
    public void PolicyReportsComponent_AddsExactlyTheTwoCrds_AndNoGrantOrSetting()
    {
        var with = Rendered.Of(RepoPaths.Of("tests/EgressWebhook.Deploy.Tests/overlays/policy-reports"));
        var without = Rendered.Overlay("default");

        var added = with.Objects.Select(o => o.ToString()).Except(without.Objects.Select(o => o.ToString())).Order(StringComparer.Ordinal);
        Assert.Equal(["CustomResourceDefinition clusterpolicyreports.wgpolicyk8s.io", "CustomResourceDefinition policyreports.wgpolicyk8s.io"], added);
        Assert.True(Granted(with).SetEquals(Granted(without)));
        Assert.Equal(without.ConfigData().OrderBy(p => p.Key), with.ConfigData().OrderBy(p => p.Key));
        var crds = with.Objects.Where(o => o.Group == "apiextensions.k8s.io" && o.Spec.Str("group") == "wgpolicyk8s.io").ToList();
        Assert.Equal([("ClusterPolicyReport", "Cluster"), ("PolicyReport", "Namespaced")],
            crds.Select(c => (c.Spec.Str("names", "kind")!, c.Spec.Str("scope")!)).Order());
        Assert.All(crds, c => Assert.Equal(["v1alpha2"], c.Spec.Items("versions").Select(v => v.Str("name")!)));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ReportGrants_HeldExactlyWhenTheAuditIsOn(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var reportGrants = Granted(rendered).Where(g => g.Group == "wgpolicyk8s.io").ToHashSet();

        // on by default with the live-cluster source (default overlay); audit-only turns it off and drops the grants
        Assert.Equal(overlay == "default", AuditOn(rendered));
        Assert.True(AuditOn(rendered) ? reportGrants.SetEquals(PolicyReportGrants) : reportGrants.Count == 0, "report grants: " + string.Join(", ", reportGrants));
    }

    [Fact]
    public void Default_GeneratorOn()
    {
        Assert.Equal("true", Rendered.Overlay("default").ConfigData()[ServerContract.Env.GeneratorEnabled]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void LeaseReadAndRenew_AreLimitedToTheGeneratorsAndTheAuditsLeases(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);
        var rules = rendered.Objects.Where(o => o.Kind == "Role")
            .SelectMany(r => r.Json.Items("rules"))
            .Where(r => r.Strings("resources").Contains("leases"))
            .ToList();

        // no generator and no background audit (audit-only), no Lease grant at all
        Assert.Equal(rendered.ConfigData().GetValueOrDefault(ServerContract.Env.GeneratorEnabled) == "true" || AuditOn(rendered), rules.Count > 0);
        Assert.All(rules.Where(r => r.Strings("verbs").Any(v => v is "get" or "update")), r => Assert.Equal(ServerContract.Leases, r.Strings("resourceNames")));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Rbac_NoWildcards_NoNonResourceUrls_BindsOnlyTheWebhookServiceAccount(string overlay)
    {
        var rendered = Rendered.Overlay(overlay);

        foreach (var role in rendered.Objects.Where(o => o.Kind is "ClusterRole" or "Role"))
        {
            Assert.Null(role.Json.At("aggregationRule"));
            foreach (var rule in role.Json.Items("rules"))
            {
                Assert.Empty(rule.Items("nonResourceURLs"));
                foreach (var field in new[] { "apiGroups", "resources", "verbs" })
                {
                    Assert.DoesNotContain("*", rule.Strings(field));
                }
            }
        }

        foreach (var binding in rendered.Objects.Where(o => o.Kind is "ClusterRoleBinding" or "RoleBinding"))
        {
            var subject = Assert.Single(binding.Json.Items("subjects"));
            Assert.Equal("ServiceAccount", subject.Str("kind"));
            Assert.Equal(ServerContract.ServiceAccount, subject.Str("name"));
            Assert.Equal(rendered.WebhookNamespace, subject.Str("namespace"));
            var roleRef = binding.Json.At("roleRef")!.Value;
            var roleNamespace = roleRef.Str("kind") == "Role" ? binding.Namespace : null;
            Assert.NotNull(rendered.Find(roleRef.Str("kind")!, roleNamespace, roleRef.Str("name")!));
        }
    }

    /// <summary>Every (scope, group, resource, verb) the bindings give the webhook's ServiceAccount.</summary>
    private static HashSet<(string Scope, string Group, string Resource, string Verb)> Granted(Rendered rendered)
    {
        var ownNamespace = rendered.WebhookNamespace;
        var result = new HashSet<(string, string, string, string)>();
        foreach (var binding in rendered.Objects.Where(o => o.Kind is "ClusterRoleBinding" or "RoleBinding"))
        {
            var toUs = binding.Json.Items("subjects").Any(s =>
                s.Str("kind") == "ServiceAccount" && s.Str("name") == ServerContract.ServiceAccount && s.Str("namespace") == ownNamespace);
            if (!toUs)
            {
                continue;
            }

            var roleRef = binding.Json.At("roleRef")!.Value;
            var role = roleRef.Str("kind") == "Role"
                ? rendered.Get("Role", binding.Namespace, roleRef.Str("name")!)
                : rendered.Get("ClusterRole", null, roleRef.Str("name")!);
            var scope = binding.Kind == "ClusterRoleBinding" ? ClusterWide : binding.Namespace == ownNamespace ? OwnNamespace : binding.Namespace!;
            foreach (var rule in role.Json.Items("rules"))
            {
                foreach (var apiGroup in rule.Strings("apiGroups"))
                {
                    result.UnionWith(Grants(scope, apiGroup, rule.Strings("resources"), rule.Strings("verbs")));
                }
            }
        }

        return result;
    }

    private static IEnumerable<(string Scope, string Group, string Resource, string Verb)> Grants(
        string scope, string apiGroup, IEnumerable<string> resources, IEnumerable<string> verbs) =>
        from resource in resources from verb in verbs select (scope, apiGroup, resource, verb);
}
