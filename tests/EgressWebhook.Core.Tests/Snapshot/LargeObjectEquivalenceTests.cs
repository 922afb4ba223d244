using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Snapshot;

/// <summary>Issue 13: an object with many hosts is checked through other paths than a small one (its hosts in a
/// <see cref="HostSet"/>, EGW110/EGW118 through one exact-host table, AffectedBy matching the index's entries against
/// the object's hosts when it has more hosts than the index has entries). Those paths must decide exactly as the small
/// ones do: a large object whose extra hosts match nothing gets the findings, and causes the dependents, of its small
/// equivalent. Speed is the benchmark's (<c>hostile</c>), not asserted here.</summary>
public sealed class LargeObjectEquivalenceTests
{
    private static readonly string[] Labels = ["a", "b", "ab", "foo", "oo", "com", "example", "xample"];

    private static string RandomHost(Random random)
    {
        var labels = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Labels[random.Next(Labels.Length)]);
        var name = string.Join('.', labels);
        return random.Next(7) switch
        {
            0 => "*." + name,
            1 => "*" + name,
            2 when random.Next(4) == 0 => "*",
            3 when random.Next(3) == 0 => new string('x', 300) + "." + name,
            _ => name,
        };
    }

    [Fact]
    public void HostSet_FindsWhatAOneItemHostIndexFinds_InTheSameOrder()
    {
        var random = new Random(1313);
        for (var round = 0; round < 300; round++)
        {
            var hosts = Enumerable.Range(0, random.Next(1, 40)).Select(_ => RandomHost(random)).ToList();
            var builder = HostIndex<string>.Create(StringComparer.Ordinal).ToBuilder(bulk: true);
            foreach (var h in hosts.Distinct(StringComparer.Ordinal))
            {
                builder.Add(h, "item");
            }

            var index = builder.ToImmutable();
            var set = new HostSet(hosts);
            foreach (var query in Enumerable.Range(0, 25).Select(_ => RandomHost(random)).Concat(hosts))
            {
                var expected = new List<HostMatch<string>>();
                index.Query(query, expected);
                var found = new List<string>();
                set.Query(query, found);

                Assert.True(expected.Select(m => m.Host).SequenceEqual(found),
                    $"{query} in [{string.Join(", ", hosts)}]: index [{string.Join(", ", expected.Select(m => m.Host))}], set [{string.Join(", ", found)}]");
                Assert.Equal(expected.Count > 0, set.Any(query));
            }
        }
    }

    private static EgressObject Read(string yaml) => ManifestReader.Read(yaml).Single();

    private static string Entry(string ns, string name, IEnumerable<string> hosts, string protocol, string created) => $"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {"{"}name: {name}, namespace: {ns}, creationTimestamp: "{created}"{"}"}
        spec:
          hosts: [{string.Join(", ", hosts.Select(h => $"\"{h}\""))}]
          location: MESH_EXTERNAL
          resolution: DNS
          ports: [{"{"}number: 443, name: p443, protocol: {protocol}{"}"}]
        """;

    private static readonly string[] Shared = ["api.equiv.example", "*.wild.equiv.example", "*artial.equiv.example", "routed.equiv.example"];

    /// <summary>Rivals in another namespace (EGW110 protocol, EGW118 several namespaces), wildcard and partial hosts,
    /// VirtualServices and a DestinationRule about the shared hosts.</summary>
    private static EgressSnapshot Cluster() => EgressSnapshot.Create(new[]
    {
        Entry("team-2", "rival", Shared.Take(3), "HTTP", "2020-01-01T00:00:00Z"),
        Entry("team-3", "other", ["api.equiv.example", "unrelated.equiv.example"], "TLS", "2021-01-01T00:00:00Z"),
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: routes, namespace: team-1}
        spec:
          hosts: ["a.wild.equiv.example"]
          http:
          - route: [{destination: {host: routed.equiv.example, port: {number: 443}, subset: v1}}]
          - route: [{destination: {host: b.wild.equiv.example}}]
          - route: [{destination: {host: xpartial.equiv.example}}]
        """,
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: elsewhere, namespace: team-1}
        spec:
          hosts: ["elsewhere.example.net"]
          http:
          - route: [{destination: {host: elsewhere.example.net}}]
        """,
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: routed, namespace: team-1}
        spec:
          host: routed.equiv.example
          subsets: [{name: v2, labels: {v: "2"}}]
        """,
    }.Select(Read).Concat(Infrastructure.Seed.Objects()));

    [Fact]
    public void LargeEntry_DecidesAsItsSmallEquivalent()
    {
        var snapshot = Cluster();
        var small = (ServiceEntry)Read(Entry("team-1", "subject", Shared, "TLS", "2026-01-01T00:00:00Z"));

        // the same entry with thousands of hosts that match nothing, after the shared ones (their paths do not move);
        // more hosts than any index of the cluster has entries, so the large paths are taken
        // (plain hosts: a wildcard with DNS resolution is a finding of its own)
        var filler = Enumerable.Range(0, 3_000).Select(i => $"h{i}.filler.example");
        var large = (ServiceEntry)Read(Entry("team-1", "subject", Shared.Concat(filler), "TLS", "2026-01-01T00:00:00Z"));
        Assert.True(large.Spec.Hosts.Count > snapshot.ServiceEntryHosts.Count + snapshot.VirtualServiceDestinations.Count + snapshot.VirtualServiceHosts.Count);

        // EGW210 off: 3,000 hosts are more than Istio's CRD allows, and with EGW210 an error the entry would get that alone
        var withoutSchemaLimits = new RuleSettings { Overrides = new Dictionary<string, Enforcement> { [RuleIds.ListOverSchemaLimit] = Enforcement.Off } };
        var smallFindings = Describe(EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, small, null), withoutSchemaLimits).Findings);
        var largeFindings = Describe(EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, large, null), withoutSchemaLimits).Findings);

        Assert.Contains(smallFindings, f => f.StartsWith(RuleIds.ConflictingServiceEntryProtocol, StringComparison.Ordinal));
        Assert.Contains(smallFindings, f => f.StartsWith(RuleIds.HostInSeveralNamespaces, StringComparison.Ordinal));
        Assert.Equal(smallFindings, largeFindings);

        // every rule's dependents of the change, through the view the engine uses
        foreach (var rule in EgressEngine.Default.Rules)
        {
            var expected = Keys(rule.AffectedBy(small, SnapshotView.With(snapshot, small)));
            var found = Keys(rule.AffectedBy(large, SnapshotView.With(snapshot, large)));
            Assert.True(expected.SequenceEqual(found), $"{string.Join('/', rule.Ids)}: small [{string.Join(", ", expected)}], large [{string.Join(", ", found)}]");
        }

        // EGW110 and EGW118 walk only the declared hosts: exactly those, in spec.hosts order, whose look-up is not empty
        var declaring = SnapshotView.With(snapshot, large).ServiceEntriesDeclaringHostsOf(large);
        var everyHost = large.Spec.Hosts.Select((h, i) => (Host: h, Index: i)).DistinctBy(p => p.Host, StringComparer.Ordinal);
        Assert.Equal(everyHost.Where(p => declaring.Declaring(p.Host).Count > 0), declaring.Declared);
        Assert.Equal(["api.equiv.example", "*.wild.equiv.example", "*artial.equiv.example"], declaring.Declared.Select(p => p.Host));

        var routing = Keys(ServiceRegistry.VirtualServicesRoutingToRegistryObject(large, SnapshotView.With(snapshot, large)));
        Assert.Equal(["VirtualService/team-1/routes"], routing);
    }

    [Fact]
    public void LargeEntry_AsARival_IsFoundByTheSmallEntriesItShadows()
    {
        // the large entry is stored; a small rival in another namespace is the change: it finds the large one by its host
        var filler = Enumerable.Range(0, 3_000).Select(i => $"h{i}.filler.example");
        var large = Read(Entry("team-1", "large", Shared.Concat(filler), "TLS", "2019-01-01T00:00:00Z"));
        var snapshot = EgressSnapshot.Create(Cluster().Objects.Append(large));
        var change = (ServiceEntry)Read(Entry("team-4", "new", ["api.equiv.example", "h2999.filler.example"], "HTTP", "2026-01-01T00:00:00Z"));

        var findings = EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, change, null), RuleSettings.Default).Findings;

        Assert.Contains(findings, f => f.Rule == RuleIds.HostInSeveralNamespaces && f.Object.Name == "new" && f.Path == "spec.hosts[1]" &&
            f.Message.Contains("team-1/large", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == RuleIds.ConflictingServiceEntryProtocol && f.Object.Name == "new" &&
            f.Message.Contains("TLS in ServiceEntry team-1/large", StringComparison.Ordinal));
        var lookup = SnapshotView.With(snapshot, change).ServiceEntriesDeclaringHostsOf(change);
        Assert.Equal(["team-1/large"], lookup.Declaring("h2999.filler.example").Select(se => $"{se.Namespace}/{se.Name}"));
        Assert.Equal(["team-1/large", "team-2/rival", "team-3/other"], lookup.Declaring("api.equiv.example").Select(se => $"{se.Namespace}/{se.Name}"));
        Assert.Empty(lookup.Declaring("absent.example.com"));
        Assert.Equal([("api.equiv.example", 0), ("h2999.filler.example", 1)], lookup.Declared);
    }

    [Fact]
    public void MatchesByHost_FindsWhatAQueryPerHostFinds()
    {
        // random indexed hosts against a random subject: each host's matches, as a set, are the per-host query's less the subject
        var random = new Random(1314);
        var lookups = 0;
        for (var round = 0; round < 60; round++)
        {
            var stored = Enumerable.Range(0, random.Next(1, 12))
                .Select(i => (VirtualService)Read(Vs("team-2", $"stored{i}", Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomHost(random)))))
                .ToList();
            var snapshot = EgressSnapshot.Create(stored);
            var subjectHosts = Enumerable.Range(0, random.Next(9, 60)).Select(_ => RandomHost(random)).Distinct(StringComparer.Ordinal).ToList();
            var subject = (VirtualService)Read(Vs("team-1", "subject", subjectHosts));
            var view = SnapshotView.With(snapshot, subject);
            var resolved = subjectHosts.Select(h => Core.Istio.HostName.Resolve(h, "team-1")).ToHashSet(StringComparer.Ordinal);

            var lookup = view.MatchesByHost(snapshot.VirtualServiceHosts, subject, new HostSet(resolved));
            if (resolved.Count <= snapshot.VirtualServiceHosts.Count || resolved.Count <= SnapshotView.ScanAtMost)
            {
                Assert.Null(lookup);
                continue;
            }

            Assert.NotNull(lookup);
            lookups++;
            foreach (var host in resolved)
            {
                var expected = view.VirtualServices(host).Where(m => m.Item.Key != subject.Key).Select(m => $"{m.Item.Name} {m.Host}").Order(StringComparer.Ordinal);
                var found = (lookup.GetValueOrDefault(host) ?? []).Select(m => $"{m.Item.Name} {m.Host}").Order(StringComparer.Ordinal);
                Assert.True(expected.SequenceEqual(found), $"{host}: query [{string.Join(", ", expected)}], lookup [{string.Join(", ", found)}]");
            }
        }

        Assert.True(lookups >= 10, $"the lookup was taken in {lookups} of 60 rounds: the rounds must exercise it");
    }

    private static string Vs(string ns, string name, IEnumerable<string> hosts, string extra = "") => $"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {"{"}name: {name}, namespace: {ns}{"}"}
        spec:
          hosts: [{string.Join(", ", hosts.Select(h => $"\"{h}\""))}]
        {extra}
        """;

    /// <summary>Registry objects, and VirtualServices bound to a Gateway, whose hosts match nothing the tests' subjects
    /// list: they change no decision, only which path it takes (their indexes outgrow the subject's host list).</summary>
    private static IEnumerable<EgressObject> Unrelated(int count) => Enumerable.Range(0, count).SelectMany(i => new[]
    {
        Read(Entry("unrelated", $"se{i}", [$"u{i}.nowhere.test"], "TLS", "2020-01-01T00:00:00Z")),
        Read($$"""
            apiVersion: v1
            kind: Service
            metadata: {name: svc{{i}}, namespace: unrelated}
            spec: {ports: [{port: 80, name: http}]}
            """),
        Read(Vs("unrelated", $"vs{i}", [$"u{i}.nowhere.test"], "  gateways: [istio-system/nothing]")),
    });

    [Fact]
    public void LargeVirtualService_DecidesAsOnThePerHostPath()
    {
        // EGW103 (hosts and sniHosts, over the finding cap) and EGW108, decided once through MatchesByHost (the cluster's
        // registry is smaller than the host list) and once per host (unrelated objects make every index larger)
        var hosts = Shared.Concat(["a.wild.equiv.example", "zpartial.equiv.example"])
            .Concat(Enumerable.Range(0, 18).Select(i => $"h{i}.unregistered.example"))
            .Concat(Enumerable.Range(0, 10).Select(i => $"h{i}.wild.equiv.example"))
            .ToList();
        var tls = """
              tls:
              - match: [{port: 443, sniHosts: ["api.equiv.example", "sni.unregistered.example", "b.wild.equiv.example", "sni2.unregistered.example", "sni3.unregistered.example"]}]
                route: [{destination: {host: api.equiv.example, port: {number: 443}}}]
            """;
        var subject = Read(Vs("team-1", "subject", hosts, tls));
        var small = Cluster();
        var large = EgressSnapshot.Create(small.Objects.Concat(Unrelated(80)));
        Assert.True(hosts.Count > small.ServiceEntryHosts.Count && hosts.Count > small.VirtualServiceHosts.Count && hosts.Count > small.ServiceHosts.Count);
        Assert.True(hosts.Count < large.ServiceEntryHosts.Count && hosts.Count < large.VirtualServiceHosts.Count && hosts.Count < large.ServiceHosts.Count);

        var fast = Describe(EgressEngine.Default.CheckChange(small, new ObjectChange(Operation.Create, subject, null), RuleSettings.Default).Findings);
        var perHost = Describe(EgressEngine.Default.CheckChange(large, new ObjectChange(Operation.Create, subject, null), RuleSettings.Default).Findings);

        Assert.Contains(fast, f => f.StartsWith($"{RuleIds.VirtualServiceHostNotRegistered} Error VirtualService team-1/subject spec.tls[0].match[0].sniHosts[1]", StringComparison.Ordinal));
        Assert.Contains(fast, f => f.StartsWith($"{RuleIds.VirtualServiceHostNotRegistered} Error VirtualService team-1/subject spec.tls:", StringComparison.Ordinal) &&
            f.Contains("and 2 more", StringComparison.Ordinal));
        Assert.Contains(fast, f => f.StartsWith($"{RuleIds.DuplicateMeshVirtualService} Warning VirtualService team-1/subject spec.hosts[4]", StringComparison.Ordinal));
        Assert.Equal(perHost, fast);
    }

    [Fact]
    public void LargeGateway_DecidesAsItsSmallEquivalent()
    {
        // EGW109 through MatchingAny (more server hosts than the index has entries), against the small Gateway's per-host path
        var rival = Read("""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: rival, namespace: team-2}
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: ["api.equiv.example", "team-3/*.wild.equiv.example"]
                tls: {mode: PASSTHROUGH}
            """);
        var snapshot = EgressSnapshot.Create(Cluster().Objects.Append(rival));
        string Gateway(IEnumerable<string> hosts) => $"""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {"{"}name: subject, namespace: team-1{"}"}
            spec:
              selector: {"{"}istio: egressgateway{"}"}
              servers:
              - port: {"{"}number: 443, name: tls, protocol: TLS{"}"}
                hosts: [{string.Join(", ", hosts.Select(h => $"\"{h}\""))}]
                tls: {"{"}mode: PASSTHROUGH{"}"}
            """;
        // edition.cnn.com: the seed's egress gateway serves it too, and the seed's mesh leg routes it to this workload (EGW113)
        string[] shared = ["api.equiv.example", "*.wild.equiv.example", "other.equiv.example", "edition.cnn.com"];
        var small = (Gateway)Read(Gateway(shared));
        var large = (Gateway)Read(Gateway(shared.Concat(Enumerable.Range(0, 3_000).Select(i => $"h{i}.filler.example"))));
        Assert.True(large.Spec.Servers[0].Hosts.Count > snapshot.GatewayServerHosts.Count);

        // a Gateway's server hosts have no maxItems in Istio's CRDs: EGW210 does not apply, the default settings do
        var smallFindings = Describe(EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, small, null), RuleSettings.Default).Findings);
        var largeFindings = Describe(EgressEngine.Default.CheckChange(snapshot, new ObjectChange(Operation.Create, large, null), RuleSettings.Default).Findings);

        Assert.Contains(smallFindings, f => f.StartsWith($"{RuleIds.ConflictingGateways} Warning Gateway team-1/subject spec.servers[0].hosts[0]", StringComparison.Ordinal));
        Assert.Equal(smallFindings, largeFindings);
        Assert.Equal(["default/istio-egressgateway", "team-2/rival"],
            SnapshotView.With(snapshot, large).GatewaysOnSameWorkloadServingItsHosts(large).Select(g => $"{g.Namespace}/{g.Name}").Order(StringComparer.Ordinal));
        var egw113 = EgressEngine.Default.Rules.Single(r => r.Ids.Contains(RuleIds.IncompleteEgressChain));
        Assert.Contains("VirtualService/default/mesh-to-egress-gateway", Keys(egw113.AffectedBy(large, SnapshotView.With(snapshot, large))));
        foreach (var rule in EgressEngine.Default.Rules)
        {
            var expected = Keys(rule.AffectedBy(small, SnapshotView.With(snapshot, small)));
            var found = Keys(rule.AffectedBy(large, SnapshotView.With(snapshot, large)));
            Assert.True(expected.SequenceEqual(found), $"{string.Join('/', rule.Ids)}: small [{string.Join(", ", expected)}], large [{string.Join(", ", found)}]");
        }
    }

    [Fact]
    public void FindingsPastTheCap_AreCountedWithTheSeverityAndAwaitedObjectOfThoseKept()
    {
        // EGW101 and EGW107 make no path or message past the cap: the summary still counts every one, keeps the
        // severity, and still rests on the missing objects (the admission answer warns and re-checks instead of denying)
        var routes = string.Join("\n", Enumerable.Range(0, 25).Select(i =>
            $"  - route: [{{destination: {{host: h{i}.unregistered.example, subset: v{i}}}}}]"));
        var subject = Read(Vs("team-1", "subject", ["api.equiv.example"], "  http:\n" + routes));

        var findings = EgressEngine.Default.CheckChange(Cluster(), new ObjectChange(Operation.Create, subject, null), RuleSettings.Default).Findings;

        foreach (var rule in (string[])[RuleIds.DestinationHostNotRegistered, RuleIds.SubsetNotFound])
        {
            var kept = findings.Where(f => f.Rule == rule && f.Path.StartsWith("spec.http[", StringComparison.Ordinal)).ToList();
            Assert.Equal(20, kept.Count);
            var summary = Assert.Single(findings, f => f.Rule == rule && f.Path == "spec.http");
            Assert.Contains($"and 5 more {rule} errors like the 20 listed in spec.http", summary.Message, StringComparison.Ordinal);
            Assert.Equal(Severity.Error, summary.Severity);
            Assert.All(kept, f => Assert.Equal(Severity.Error, f.Severity));
            Assert.NotNull(summary.Awaits);
            Assert.All(kept, f => Assert.NotNull(f.Awaits));
        }
    }

    [Fact]
    public void SortedOnRead_ReadsAsTheSortedList()
    {
        // the audit line's opened hosts: sorted as far as they are read, whether enumerated, indexed or both
        var random = new Random(1315);
        foreach (var size in (int[])[0, 1, 5, 64, 65, 300, 3_000])
        {
            var items = Enumerable.Range(0, size).Select(_ => RandomHost(random) + ":" + random.Next(1, 100)).Distinct(StringComparer.Ordinal).ToList();
            var expected = items.Order(StringComparer.Ordinal).ToList();

            var enumerated = new Core.Rules.Guardrails.SortedOnRead([.. items]);
            Assert.Equal(expected, enumerated.ToList());
            Assert.Equal(expected.Take(3), enumerated.Take(3));
            Assert.Equal(expected.Count, enumerated.Count);

            var indexed = new Core.Rules.Guardrails.SortedOnRead([.. items]);
            Assert.Equal(expected, Enumerable.Range(0, indexed.Count).Select(i => indexed[i]));
            Assert.Equal(expected, indexed.ToList());
        }
    }

    private static List<string> Describe(IEnumerable<Finding> findings) =>
        [.. findings.Select(f => $"{f.Rule} {f.Severity} {f.Object} {f.Path}: {f.Message}")];

    private static List<string> Keys(IEnumerable<EgressObject> objects) =>
        [.. objects.Select(o => $"{o.ResourceKind}/{o.Namespace}/{o.Name}").Distinct().Order(StringComparer.Ordinal)];
}
