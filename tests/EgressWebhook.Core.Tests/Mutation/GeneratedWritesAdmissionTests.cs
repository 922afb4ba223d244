using System.Text.Json;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Mutation;

/// <summary>The generator's writes, in its order, each through the validating webhook against the state the writes
/// before it left: none is refused or warned about; an opted-in entry's port change is one write.</summary>
public sealed class GeneratedWritesAdmissionTests
{
    private static readonly MutationPolicy Policy = new() { DefaultGateway = "istio-system/istio-egressgateway" };

    private static readonly AdmissionSettings Settings = AdmissionSettings.Default with { Mutation = Policy };

    private static readonly AdmissionSettings StrictSettings = Settings with { Enforcement = ChainEnforcement.Strict };

    private static ServiceEntry Cnn() => Seed.Objects().OfType<ServiceEntry>().Single(se => se.Name == "cnn") is var cnn
        ? cnn with { Metadata = cnn.Metadata with { Uid = "uid-cnn" } }
        : null!;

    private static List<EgressObject> Cluster() =>
        [.. Seed.Objects().Where(o => o is Service or MeshConfig), Cnn()];

    [Fact]
    public void Reconcile_AppliesInDependencyOrder_AndDeletesInReverse()
    {
        var mixed = Cnn() with { Spec = Cnn().Spec with { Ports = [.. Cnn().Spec.Ports, new ServicePortSpec { Number = 80, Name = "http", Protocol = "HTTP" }] } };
        var changes = RoutingReconciler.Reconcile(SnapshotView.Of(EgressSnapshot.Create([.. Cluster().Where(o => o is not ServiceEntry), mixed])), Policy);

        Assert.Equal(["Gateway cnn-egress", "Gateway cnn-egress-http", "DestinationRule cnn-egress", "VirtualService cnn-egress-tls",
            "VirtualService cnn-egress-http", "VirtualService cnn-egress-mesh"], changes.Apply.Select(o => $"{o.KindName} {o.Name}"));

        var optedOut = mixed with { Metadata = mixed.Metadata with { Annotations = new Dictionary<string, string> { [RoutingAnnotations.Routing] = "disabled" } } };
        var removal = RoutingReconciler.Reconcile(SnapshotView.Of(EgressSnapshot.Create([.. Cluster().Where(o => o is not ServiceEntry), optedOut, .. changes.Apply])), Policy);

        // within a rank, deletes come in the snapshot's order (kind, namespace, name): the two gateway legs by name
        Assert.Equal(["VirtualService cnn-egress-mesh", "VirtualService cnn-egress-http", "VirtualService cnn-egress-tls", "DestinationRule cnn-egress",
            "Gateway cnn-egress", "Gateway cnn-egress-http"], removal.Delete.Select(o => $"{o.KindName} {o.Name}"));
    }

    [Fact]
    public void GeneratorWrites_NewEntry_EachAdmittedWithoutAnyFinding_EvenStrict()
    {
        var state = EgressSnapshot.Create(Cluster());

        state = Converge(state, StrictSettings);

        Assert.Equal(4, state.Objects.Count(RuleContext.IsGenerated));
        Assert.Empty(EgressEngine.Default.CheckAll(state, RuleSettings.Default).Findings);
    }

    [Fact]
    public void EntryPortChange_IsOneAdmittedWrite_AndTheGeneratorsWritesFollowWithoutFindings()
    {
        var state = Converge(EgressSnapshot.Create(Cluster()), Settings);
        var changed = Cnn() with { Spec = Cnn().Spec with { Ports = [new ServicePortSpec { Number = 80, Name = "http", Protocol = "HTTP" }] } };
        var update = Request("UPDATE", changed, state.Find(changed.Key));

        // against the stored legs (443) the new entry (80) breaks them; against the routing planned for it, it does not
        var againstStored = EgressEngine.Default.CheckChange(state, new ObjectChange(Operation.Update, changed, state.Find(changed.Key)), RuleSettings.Default);
        Assert.Contains(againstStored.Findings, f => f.Rule == RuleIds.DestinationPortUnknown && f.Severity == Severity.Error);
        var decision = AdmissionHandler.Default.Validate(update, state, StrictSettings);

        Assert.True(decision.Allowed, decision.Response.Status?.Message);
        Assert.DoesNotContain(decision.Findings, f => f.Severity == Severity.Error);

        state = Converge(EgressSnapshot.Create(state.Objects.Where(o => o.Key != changed.Key).Append(changed)), StrictSettings);
        Assert.Contains(state.Objects, o => o.Name == "cnn-egress-http" && o is VirtualService);
        Assert.DoesNotContain(state.Objects, o => o.Name == "cnn-egress-tls");
        Assert.Empty(EgressEngine.Default.CheckAll(state, RuleSettings.Default).Findings);
    }

    [Fact]
    public void UsersEditOfAGeneratedLeg_IsStillCheckedAsWritten()
    {
        var state = Converge(EgressSnapshot.Create(Cluster()), Settings);
        var leg = (VirtualService)state.Objects.Single(o => o.Name == "cnn-egress-tls");
        var broken = leg with
        {
            Spec = leg.Spec with { Tls = [leg.Spec.Tls[0] with { Match = [leg.Spec.Tls[0].Match[0] with { Port = 8443 }] }] },
        };

        var decision = AdmissionHandler.Default.Validate(Request("UPDATE", broken, leg), state, Settings);

        Assert.False(decision.Allowed);
        Assert.Contains(RuleIds.PassthroughPortChain, decision.RuleIds);
    }

    /// <summary>Runs the generator's passes as admission would see them: every apply and delete of the reconciler, in
    /// its order, validated against the state so far, until nothing is left to write.</summary>
    private static EgressSnapshot Converge(EgressSnapshot state, AdmissionSettings settings)
    {
        for (var pass = 0; pass < 3; pass++)
        {
            var changes = RoutingReconciler.Reconcile(SnapshotView.Of(state), Policy);
            if (changes.Apply.Count == 0 && changes.Delete.Count == 0)
            {
                return state;
            }

            foreach (var obj in changes.Apply)
            {
                var stored = state.Find(obj.Key);
                var decision = AdmissionHandler.Default.Validate(Request(stored is null ? "CREATE" : "UPDATE", obj, stored), state, settings);
                Assert.True(decision.Allowed, $"{obj.KindName} {obj.Name} refused: {decision.Response.Status?.Message}");
                Assert.True(decision.Findings.Count == 0, $"{obj.KindName} {obj.Name}: {string.Join("; ", decision.Findings.Select(f => $"{f.Rule} {f.Message}"))}");
                state = EgressSnapshot.Create(state.Objects.Where(o => o.Key != obj.Key).Append(obj));
            }

            foreach (var obj in changes.Delete)
            {
                var decision = AdmissionHandler.Default.Validate(Request("DELETE", null, obj), state, settings);
                Assert.True(decision.Allowed, $"delete of {obj.KindName} {obj.Name} refused");
                state = EgressSnapshot.Create(state.Objects.Where(o => o.Key != obj.Key));
            }
        }

        Assert.Fail("the generator did not converge in 3 passes");
        return state;
    }

    internal static AdmissionRequest Request(string operation, EgressObject? obj, EgressObject? old)
    {
        var subject = obj ?? old!;
        var slash = subject.ApiVersion.IndexOf('/', StringComparison.Ordinal);
        return new AdmissionRequest
        {
            Uid = Guid.NewGuid().ToString(),
            Kind = new GroupVersionKind
            {
                Group = slash < 0 ? "" : subject.ApiVersion[..slash],
                Version = slash < 0 ? subject.ApiVersion : subject.ApiVersion[(slash + 1)..],
                Kind = subject.KindName,
            },
            Name = subject.Name,
            Namespace = subject.Namespace,
            Operation = operation,
            Object = obj is null ? null : Json(obj),
            OldObject = old is null ? null : Json(old),
        };
    }

    private static JsonElement Json(EgressObject obj) =>
        JsonSerializer.SerializeToElement<JsonNode>(ManifestWriter.ToJson(obj), EgressJsonContext.Default.JsonNode);
}
