using System.Text.Json;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Admission;

/// <summary><see cref="AdmissionPipeline"/>: a request parsed once, the not-synced policy decided without a rule,
/// EGW114's severity, and the kinds a decision asks to confirm taken from the rules.</summary>
public sealed class AdmissionPipelineTests
{
    private const string Vs = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: cnn
          namespace: shop
        spec:
          hosts: [edition.cnn.com]
          gateways: [istio-system/istio-egressgateway]
          http:
          - route:
            - destination:
                host: edition.cnn.com
        """;

    private static readonly AdmissionSettings ExemptShop = AdmissionSettings.Default with { ExemptNamespaces = new HashSet<string>(StringComparer.Ordinal) { "shop" } };

    [Fact]
    public void Parse_WorksOutOperationKindAndExemption()
    {
        var subject = AdmissionSubject.Parse(Request("CREATE", Vs), ExemptShop);

        Assert.Equal(Operation.Create, subject.Operation);
        Assert.Equal(ResourceKind.VirtualService, subject.ResourceKind);
        Assert.Equal("VirtualService", subject.Kind);
        Assert.True(subject.Exempt);
        Assert.Equal("VirtualService", subject.KindLabel);
        Assert.Equal("CREATE", subject.OperationLabel);
        Assert.Equal("shop", subject.DefaultNamespace);
        Assert.False(AdmissionSubject.Parse(Request("CREATE", Vs), AdmissionSettings.Default).Exempt);
    }

    [Fact]
    public void Parse_UnknownOperationAndKind_AreOther_AndSkipped()
    {
        var request = Request("PATCH", Vs) with { Kind = new GroupVersionKind { Group = "apps", Version = "v1", Kind = "Deployment" } };
        var subject = AdmissionSubject.Parse(request, AdmissionSettings.Default);

        Assert.Null(subject.Operation);
        Assert.Null(subject.ResourceKind);
        Assert.Equal("other", subject.KindLabel);
        Assert.Equal("other", subject.OperationLabel);
        Assert.Equal(AdmissionOutcome.Skipped, AdmissionPipeline.Default.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default).Outcome);
    }

    [Fact]
    public void Parse_RequestWithoutKind_TakesTheObjectsKind()
    {
        var subject = AdmissionSubject.Parse(Request("CREATE", Vs) with { Kind = null }, AdmissionSettings.Default);

        Assert.Equal(ResourceKind.VirtualService, subject.ResourceKind);
        Assert.Equal("networking.istio.io/v1", subject.ApiVersion);
    }

    [Fact]
    public void OneSubject_SharedByValidateAndMutate_DecidesAsTheHandler()
    {
        var request = Request("CREATE", Vs);
        var subject = AdmissionSubject.Parse(request, AdmissionSettings.Default);
        var pipeline = AdmissionPipeline.Default;

        var validated = pipeline.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default);
        var again = pipeline.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default);

        Assert.Equal(AdmissionHandler.Default.Validate(request, EgressSnapshot.Empty, AdmissionSettings.Default).RuleIds, validated.RuleIds);
        Assert.Equal(validated.RuleIds, again.RuleIds);
        Assert.Contains(RuleIds.GatewayReference, validated.RuleIds);
        // a VirtualService gets no mutation
        Assert.Equal(AdmissionOutcome.Skipped, pipeline.Mutate(subject, EgressSnapshot.Empty, AdmissionSettings.Default).Outcome);
    }

    [Fact]
    public void WhileNotSynced_DecidesWithoutRunningARule()
    {
        var rule = new CountingRule();
        var pipeline = new AdmissionPipeline(new EgressEngine([rule]));
        var subject = AdmissionSubject.Parse(Request("CREATE", Vs), AdmissionSettings.Default);

        var refused = pipeline.WhileNotSynced(subject, mutate: false, EgressSnapshot.Empty, "cache not synced", deny: true, AdmissionSettings.Default);
        var warned = pipeline.WhileNotSynced(subject, mutate: false, EgressSnapshot.Empty, "cache not synced", deny: false, AdmissionSettings.Default);

        Assert.Equal(0, rule.Checks);
        Assert.Equal(AdmissionOutcome.Unsynced, refused.Outcome);
        Assert.False(refused.Allowed);
        Assert.Equal(503, refused.Response.Status!.Code);
        Assert.Equal(AdmissionOutcome.Unsynced, warned.Outcome);
        Assert.True(warned.Allowed);
        Assert.Equal(["egress check skipped: cache not synced"], warned.Response.Warnings);

        // the same rule does run when the cache is trusted
        pipeline.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default);
        Assert.Equal(1, rule.Checks);
    }

    [Fact]
    public void WhileNotSynced_AnswersExemptSkippedAndUndecodable_AsUsual()
    {
        var pipeline = new AdmissionPipeline(new EgressEngine([new CountingRule()]));
        var exempt = AdmissionSubject.Parse(Request("CREATE", Vs), ExemptShop);
        var other = AdmissionSubject.Parse(Request("CREATE", Vs) with { Kind = new GroupVersionKind { Version = "v1", Kind = "Pod" } }, AdmissionSettings.Default);
        var broken = AdmissionSubject.Parse(Request("CREATE", Vs.Replace("hosts: [edition.cnn.com]", "hosts: 7", StringComparison.Ordinal)), AdmissionSettings.Default);

        Assert.Equal(AdmissionOutcome.Exempt, pipeline.WhileNotSynced(exempt, false, EgressSnapshot.Empty, "x", true, ExemptShop).Outcome);
        Assert.Equal(AdmissionOutcome.Skipped, pipeline.WhileNotSynced(other, false, EgressSnapshot.Empty, "x", true, AdmissionSettings.Default).Outcome);
        var invalid = pipeline.WhileNotSynced(broken, false, EgressSnapshot.Empty, "x", true, AdmissionSettings.Default);
        Assert.Equal(AdmissionOutcome.Invalid, invalid.Outcome);
        Assert.Equal(422, invalid.Response.Status!.Code);
        Assert.Contains("object.spec", invalid.Response.Status.Message, StringComparison.Ordinal);
        // /mutate: never refused for the cache
        var entry = AdmissionSubject.Parse(Request("CREATE", Entry), AdmissionSettings.Default);
        var mutation = pipeline.WhileNotSynced(entry, true, EgressSnapshot.Empty, "x", true, AdmissionSettings.Default);
        Assert.True(mutation.Allowed);
        Assert.Equal(AdmissionOutcome.Unsynced, mutation.Outcome);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(Enforcement.Warn, true)]
    [InlineData(Enforcement.Deny, false)]
    public void WhileNotSynced_Delete_IsRefusedOnlyWhenEgw114WouldRefuseIt(Enforcement? egw114, bool allowed)
    {
        var settings = egw114 is { } e
            ? AdmissionSettings.Default with { Policy = new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.DeleteLeavesDanglingReference] = e } } }
            : AdmissionSettings.Default;
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(Vs));
        var delete = AdmissionSubject.Parse(Request("DELETE", Vs) with { Object = null, OldObject = null }, settings);

        var decision = AdmissionPipeline.Default.WhileNotSynced(delete, false, snapshot, "stale", deny: true, settings);

        Assert.Equal(AdmissionOutcome.Unsynced, decision.Outcome);
        Assert.Equal(allowed, decision.Allowed);
    }

    [Fact]
    public void DeleteSeverity_IsEgw114sUnderThePolicy()
    {
        static AdmissionSettings With(Enforcement e) =>
            AdmissionSettings.Default with { Policy = new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.DeleteLeavesDanglingReference] = e } } };

        Assert.Equal(Severity.Warning, AdmissionPipeline.DeleteSeverity(AdmissionSettings.Default));
        Assert.Equal(Severity.Error, AdmissionPipeline.DeleteSeverity(With(Enforcement.Deny)));
        Assert.Null(AdmissionPipeline.DeleteSeverity(With(Enforcement.Off)));
        Assert.Equal(Severity.Error, AdmissionPipeline.DeleteSeverity(AdmissionSettings.Default with { Policy = new RuleSettings { WarnOnly = false, Overrides = new Dictionary<string, Enforcement> { [RuleIds.DeleteLeavesDanglingReference] = Enforcement.Strict } } }));
    }

    [Fact]
    public void KindsToConfirm_ComeFromTheRulesRestsOnMissing()
    {
        var pipeline = new AdmissionPipeline(new EgressEngine([new CountingRule()]));

        Assert.Equal([ResourceKind.Sidecar], pipeline.KindsFor(CountingRule.Id));
        Assert.Empty(pipeline.KindsFor(RuleIds.GatewayReference));
        Assert.Equal([ResourceKind.Gateway], AdmissionPipeline.Default.KindsFor(RuleIds.GatewayReference));
        Assert.Equal([ResourceKind.VirtualService], AdmissionPipeline.Default.KindsFor(RuleIds.DeleteLeavesDanglingReference));
        // every rule that declares kinds is one whose findings the pipeline confirms
        Assert.All(EgressEngine.Default.Rules.Where(r => r.RestsOnMissing.Count > 0),
            r => Assert.All(r.Ids, id => Assert.Equal(r.RestsOnMissing, AdmissionPipeline.Default.KindsFor(id))));
    }

    [Fact]
    public void Validate_WithConfirm_AsksForTheKindsItsFindingsRestOn()
    {
        var pipeline = new AdmissionPipeline(new EgressEngine([new CountingRule()]));
        var subject = AdmissionSubject.Parse(Request("CREATE", Vs), AdmissionSettings.Default);

        var confirmed = pipeline.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default, confirm: true);
        var plain = pipeline.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default);

        Assert.Equal([CountingRule.Id], confirmed.RuleIds);
        Assert.Equal(FreshReadMode.Always, Assert.Single(confirmed.Confirm, p => p.Key == ResourceKind.Sidecar).Value);
        Assert.Empty(plain.Confirm);
    }

    [Fact]
    public void Validate_WithConfirm_AWarningIsConfirmedByACount()
    {
        var pipeline = new AdmissionPipeline(new EgressEngine([new CountingRule(Severity.Warning)]));
        var subject = AdmissionSubject.Parse(Request("CREATE", Vs), AdmissionSettings.Default);

        var decision = pipeline.Validate(subject, EgressSnapshot.Empty, AdmissionSettings.Default, confirm: true);

        Assert.True(decision.Allowed);
        Assert.Equal(FreshReadMode.IfCountChanged, decision.Confirm[ResourceKind.Sidecar]);
    }

    [Fact]
    public void NamespaceToConfirm_OnlyForAServiceEntryWhoseNamespaceIsNotHeld()
    {
        var entry = AdmissionSubject.Parse(Request("CREATE", Entry), AdmissionSettings.Default);
        var held = EgressSnapshot.Create(ManifestReader.Read("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"));

        Assert.Equal("shop", AdmissionPipeline.NamespaceToConfirm(entry, EgressSnapshot.Empty));
        Assert.Null(AdmissionPipeline.NamespaceToConfirm(entry, held));
        Assert.Null(AdmissionPipeline.NamespaceToConfirm(AdmissionSubject.Parse(Request("CREATE", Entry), ExemptShop), EgressSnapshot.Empty));
        Assert.Null(AdmissionPipeline.NamespaceToConfirm(AdmissionSubject.Parse(Request("CREATE", Vs), AdmissionSettings.Default), EgressSnapshot.Empty));
    }

    private const string Entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: cnn
          namespace: shop
        spec:
          hosts: [edition.cnn.com]
          ports:
          - number: 443
            name: tls
            protocol: TLS
        """;

    private static AdmissionRequest Request(string operation, string yaml)
    {
        var json = YamlJson.ParseDocuments(yaml).Single().Json;
        var apiVersion = json.GetProperty("apiVersion").GetString()!;
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var meta = json.GetProperty("metadata");
        return new AdmissionRequest
        {
            Uid = "uid-1",
            Kind = new GroupVersionKind
            {
                Group = slash < 0 ? "" : apiVersion[..slash],
                Version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..],
                Kind = json.GetProperty("kind").GetString(),
            },
            Name = meta.GetProperty("name").GetString(),
            Namespace = meta.TryGetProperty("namespace", out var ns) ? ns.GetString() : "default",
            Operation = operation,
            Object = JsonSerializer.SerializeToElement(json, EgressJsonContext.Default.JsonElement),
        };
    }

    /// <summary>Reports one finding on every VirtualService, resting on Sidecars, and counts its runs.</summary>
    private sealed class CountingRule(Severity severity = Severity.Error) : IEgressRule
    {
        public const string Id = "EGW999";

        public int Checks { get; private set; }

        public IReadOnlyList<string> Ids { get; } = [Id];

        public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.Sidecar];

        public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

        public void Check(EgressObject subject, RuleContext context)
        {
            Checks++;
            context.Report(Id, severity, subject, "spec", "test finding");
        }
    }
}
