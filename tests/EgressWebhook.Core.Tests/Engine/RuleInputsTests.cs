using System.Reflection;
using System.Text.Json.Serialization;
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

    /// <summary>The comparison sees what the JSON of the model holds: a property that keeps decoded data out of the JSON
    /// (<c>[JsonIgnore]</c> on a settable property; a read alias such as
    /// <c>sni_hosts</c>, ignored only when null and folded into another property, is fine) would make two versions that differ in it look the same.</summary>
    [Fact]
    public void EveryModelPropertyWithData_IsSerialized()
    {
        var model = typeof(EgressObject).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(EgressObject).Namespace && t.IsClass && t != typeof(MeshConfig));
        var hidden = model
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(p => p.SetMethod is not null && p.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.Always })
            .Select(p => $"{p.DeclaringType!.Name}.{p.Name}")
            .ToList();

        Assert.Empty(hidden);
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
                var now = old with { Metadata = old.Metadata with { ResourceVersion = "999", Generation = 999, Uid = "other" } };
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
