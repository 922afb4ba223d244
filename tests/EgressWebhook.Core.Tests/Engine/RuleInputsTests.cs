using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Engine;

/// <summary><see cref="RuleInputs.Same"/>, on which <see cref="EgressEngine.CheckChange"/> skips re-checking the
/// objects that depend on an UPDATE.</summary>
public sealed class RuleInputsTests
{
    private static ServiceEntry Entry(string host = "api.example.com", int port = 443) => new()
    {
        Metadata = new ObjectMeta { Name = "api", Namespace = "team-a", ResourceVersion = "1", Generation = 1, Uid = "u1" },
        Spec = new ServiceEntrySpec { Hosts = [host], Ports = [new ServicePortSpec { Number = port, Name = "tls", Protocol = "TLS" }] },
    };

    [Fact]
    public void Same_OnlyTheWriteBookkeepingDiffers()
    {
        var old = Entry();
        var now = old with { Metadata = old.Metadata with { ResourceVersion = "2", Generation = 2, Uid = "u2" } };

        Assert.True(RuleInputs.Same(old, now));
    }

    public static TheoryData<string> Changes() => ["host", "port", "label", "annotation", "name", "creationTimestamp", "owner"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Same_AnythingARuleReadsDiffers_IsFalse(string change)
    {
        var old = Entry();
        var now = change switch
        {
            "host" => Entry(host: "api2.example.com"),
            "port" => Entry(port: 8443),
            "label" => old with { Metadata = old.Metadata with { Labels = new Dictionary<string, string> { ["a"] = "b" } } },
            "annotation" => old with { Metadata = old.Metadata with { Annotations = new Dictionary<string, string> { ["a"] = "b" } } },
            "name" => old with { Metadata = old.Metadata with { Name = "api2" } },
            "creationTimestamp" => old with { Metadata = old.Metadata with { CreationTimestamp = "2026-01-01T00:00:00Z" } },
            _ => old with { Metadata = old.Metadata with { OwnerReferences = [new OwnerReference { Kind = "X", Name = "x" }] } },
        };

        Assert.False(RuleInputs.Same(old, now));
    }

    [Fact]
    public void Same_DifferentKinds_IsFalse() =>
        Assert.False(RuleInputs.Same(Entry(), new Gateway { Metadata = Entry().Metadata }));

    /// <summary>The comparison sees what the JSON of the model holds: a settable property (of any visibility) that the
    /// source-generated contract does not write, or writes never (<c>[JsonIgnore]</c>), would make two versions that
    /// differ in it look the same. A read alias such as <c>sni_hosts</c>, written only when not null and folded into
    /// another property, is in the contract and fine.</summary>
    [Fact]
    public void EveryModelPropertyWithData_IsInTheJsonContract()
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var model = typeof(EgressObject).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(EgressObject).Namespace && t.IsClass && t != typeof(MeshConfig) && !t.IsAbstract && !t.ContainsGenericParameters && !t.IsNested)
            .Select(t => (Type: t, Info: EgressJsonContext.Default.GetTypeInfo(t)))
            .Where(m => m.Info is { Kind: JsonTypeInfoKind.Object })
            .ToList();
        Assert.Contains(model, m => m.Type == typeof(ServiceEntrySpec));

        var hidden = new List<string>();
        foreach (var (type, info) in model)
        {
            var written = info!.Properties.Select(p => (p.AttributeProvider as MemberInfo)?.Name).ToHashSet(StringComparer.Ordinal);
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            {
                hidden.AddRange(t.GetProperties(declared)
                    .Where(p => p.SetMethod is not null && p.Name != "EqualityContract" &&
                                (!written.Contains(p.Name) || p.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.Always }))
                    .Select(p => $"{type.Name}.{p.Name}"));
            }
        }

        Assert.Empty(hidden);
    }

    [Fact]
    public void Same_MeshConfig_IsNeverCompared()
    {
        // its decoding problem is kept outside the JSON: two mesh configs that write the same JSON may differ to EGW117
        Assert.False(RuleInputs.Same(new MeshConfig(), new MeshConfig()));
    }

    [Fact]
    public void Same_DifferenceAtTheEnd_OrOneVersionLonger_IsFalse()
    {
        var old = Entry();
        Assert.False(RuleInputs.Same(old, old with { Spec = old.Spec with { ExportTo = ["."] } }));
        Assert.False(RuleInputs.Same(old with { Spec = old.Spec with { ExportTo = ["."] } }, old));
        Assert.True(RuleInputs.Same(old, old));
    }

    [Fact]
    public void Same_HtmlCharacters_AreComparedAsWritten()
    {
        var old = Entry(host: new string('<', 10_000) + ".example.com");

        Assert.True(RuleInputs.Same(old, old with { Metadata = old.Metadata with { ResourceVersion = "9" } }));
        Assert.False(RuleInputs.Same(old, Entry(host: new string('<', 9_999) + ">.example.com")));
    }

    [Fact]
    public void Same_SpentBudget_Throws()
    {
        using var spent = new CancellationTokenSource();
        spent.Cancel();

        Assert.Throws<OperationCanceledException>(() => RuleInputs.Same(Entry(), Entry(), spent.Token));
    }

    /// <summary>The skip itself: a bookkeeping-only UPDATE asks no rule for its dependents; a spec change does.</summary>
    [Fact]
    public void CheckChange_AsksForDependents_OnlyWhenTheInputChanged()
    {
        var rule = new CountingRule();
        var engine = new EgressEngine([rule]);
        var old = Entry();
        var snapshot = EgressSnapshot.Create([old]);

        engine.CheckChange(snapshot, new ObjectChange(Operation.Update, old with { Metadata = old.Metadata with { ResourceVersion = "2", Generation = 2 } }, old), RuleSettings.Default);
        Assert.Equal(0, rule.AffectedByCalls);

        engine.CheckChange(snapshot, new ObjectChange(Operation.Update, Entry(port: 8443), old), RuleSettings.Default);
        Assert.True(rule.AffectedByCalls > 0);
    }

    private sealed class CountingRule : IEgressRule
    {
        public int AffectedByCalls { get; private set; }

        public IReadOnlyList<string> Ids { get; } = ["TEST1"];

        public bool AppliesTo(ResourceKind kind) => true;

        public void Check(EgressObject subject, RuleContext context)
        {
        }

        public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view)
        {
            AffectedByCalls++;
            return [];
        }
    }

    /// <summary>The premise on real configurations: an UPDATE of any corpus or seed object that changes only
    /// <c>resourceVersion</c>, <c>generation</c> and <c>uid</c> causes no finding on any other object.</summary>
    [Fact]
    public void BookkeepingOnlyUpdate_CausesNothing_OnEveryCorpusAndSeedObject()
    {
        var sets = Corpus.Files.Select(Corpus.Read).Append(Seed.Objects()).ToList();
        var checkedObjects = 0;
        foreach (var objects in sets)
        {
            var snapshot = EgressSnapshot.Create(objects);
            foreach (var old in snapshot.Objects)
            {
                // a second instance holding only what the JSON holds, as a second decode of the same manifest would
                var info = EgressJsonContext.Default.GetTypeInfo(old.GetType())!;
                var copy = (EgressObject)JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(old, info), info)!;
                var now = copy with { Metadata = copy.Metadata with { ResourceVersion = "999", Generation = 999, Uid = "other" } };
                if (!RuleInputs.Same(old, now))
                {
                    Assert.IsType<MeshConfig>(old);
                    continue;
                }

                var caused = EgressEngine.Default.CausedBy(now, old, SnapshotView.With(snapshot, old), SnapshotView.With(snapshot, now), RuleSettings.Default);
                Assert.Empty(caused);
                checkedObjects++;
            }
        }

        Assert.True(checkedObjects >= 400, $"{checkedObjects} objects checked");
    }

    [Fact]
    public void CheckChange_SpecChange_StillReportsWhatItCausesOnDependents()
    {
        // the skip must not hide findings a real change causes: the gateway leg routes to port 443 of the entry
        var entry = Entry();
        var vs = ManifestReader.Read("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: { name: vs, namespace: team-a }
            spec:
              hosts: [api.example.com]
              tls:
              - match: [{ port: 443, sniHosts: [api.example.com] }]
                route: [{ destination: { host: api.example.com, port: { number: 443 } } }]
            """).Single();
        var snapshot = EgressSnapshot.Create([entry, vs]);

        var moved = Entry(port: 8443) with { Metadata = entry.Metadata with { ResourceVersion = "2" } };
        var report = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Update, moved, entry), RuleSettings.Default);

        Assert.Contains(report.Findings, f => f.Rule == RuleIds.DestinationPortUnknown && f.Object.Name == "vs");
    }
}
