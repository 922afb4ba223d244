using System.Globalization;
using System.Text;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.CrossResource;
using EgressWebhook.Core.Rules.Guardrails;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Rules.CrossResource.Reference;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>Issue 13: the VirtualService rules share their per-destination work (equal gateway lists as one instance,
/// EGW107's lookup paths once per host and namespace, (c) once per host and subset) and make nothing past the finding
/// cap that the summary does not keep (what a finding awaits, its path and message). On random VirtualServices, short
/// and far past the cap of 20, each rule reports what it reported before (the copies in Reference/, as they were at
/// 2ce787f): the same findings, severities, paths, messages, related objects, awaited objects and summaries, in the
/// same order, alone and sharing one context with the other rules as the engine does.</summary>
public sealed class VirtualServiceSharedPathEquivalenceTests
{
    private static readonly string[] Namespaces = ["team-1", "team-2", "istio-system"];
    private static readonly string[] Hosts = ["api.example.com", "reg.example.com", "*.wild.example.com", "a.wild.example.com", "nodr.example.com", "gone.example.com", "reviews", "reviews.team-2.svc.cluster.local"];
    private const string EgressGatewayHost = "istio-egressgateway.istio-system.svc.cluster.local";
    private static readonly string[] Subsets = ["v1", "v2", "v3"];
    private static readonly string[] GatewayRefNames = ["mesh", "istio-system/istio-egressgateway", "istio-system/missing", "egress", "team-2/ingress", "other.istio-system.svc.cluster.local"];

    private static readonly (IEgressRule Now, IEgressRule Before)[] Pairs =
    [
        (new Egw101DestinationHostNotRegistered(), new Egw101DestinationHostNotRegisteredBefore()),
        (new Egw103VirtualServiceHostNotRegistered(), new Egw103VirtualServiceHostNotRegisteredBefore()),
        (new Egw104GatewayReference(), new Egw104GatewayReferenceBefore()),
        (new Egw107SubsetNotFound(), new Egw107SubsetNotFoundBefore()),
        (new Egw108DuplicateMeshVirtualService(), new Egw108DuplicateMeshVirtualServiceBefore()),
    ];

    [Fact]
    public void VirtualServiceRules_ReportWhatTheyReportedBefore_OnRandomVirtualServices()
    {
        var random = new Random(1313);
        var compared = 0;
        var pastTheCap = 0;
        for (var round = 0; round < 60; round++)
        {
            var snapshot = EgressSnapshot.Create(ManifestReader.Read(Cluster(random), "default"));
            for (var n = 0; n < 4; n++)
            {
                var vs = (VirtualService)Assert.Single(ManifestReader.Read(RandomVirtualService(random, n), "default"));
                foreach (var settings in new[] { RuleSettings.Default, RuleSettings.Default with { WarnOnly = true } })
                {
                    var view = SnapshotView.With(snapshot, vs);

                    // one context shared by the rules, as the engine checks an object
                    var shared = new RuleContext(view, settings);
                    var sharedBefore = new RuleContext(view, settings);
                    foreach (var (now, before) in Pairs)
                    {
                        // each rule alone
                        var alone = new RuleContext(view, settings);
                        var aloneBefore = new RuleContext(view, settings);
                        now.Check(vs, alone);
                        before.Check(vs, aloneBefore);
                        AssertSame(aloneBefore.Findings, alone.Findings, $"{now.Ids[0]} alone, round {round}.{n}");
                        pastTheCap += alone.Findings.Any(f => f.Message.StartsWith('…')) ? 1 : 0;

                        now.Check(vs, shared);
                        before.Check(vs, sharedBefore);
                        compared++;
                    }

                    AssertSame(sharedBefore.Findings, shared.Findings, $"shared context, round {round}.{n}");

                    // what a change of the VirtualService, or of an object of the cluster, makes each rule recheck
                    foreach (var changed in snapshot.Objects.Take(8).Append(vs))
                    {
                        foreach (var (now, before) in Pairs)
                        {
                            Assert.Equal(before.AffectedBy(changed, view).Select(o => o.Key), now.AffectedBy(changed, view).Select(o => o.Key));
                        }
                    }
                }
            }
        }

        // the random input reaches past the cap, and the comparison ran
        Assert.True(pastTheCap > 20, $"{pastTheCap} checks past the cap");
        Assert.True(compared > 1000);
    }

    [Fact]
    public void Egw113AffectedBy_OfAVirtualService_FindsTheLegsItFoundPerHost()
    {
        var random = new Random(113);
        var rule = new Egw113IncompleteEgressChain();
        var found = 0;
        for (var round = 0; round < 150; round++)
        {
            var snapshot = EgressSnapshot.Create(ManifestReader.Read(Cluster(random), "default"));
            var vs = (VirtualService)Assert.Single(ManifestReader.Read(RandomVirtualService(random, round % 4), "default"));
            var view = SnapshotView.With(snapshot, vs);

            // as at 2ce787f: the gateway legs, host by host, of each gateway the destinations are
            var expected = new HashSet<ObjectKey>();
            foreach (var gwRef in EgressSnapshot.BoundGatewayRefs(vs).Distinct(StringComparer.Ordinal))
            {
                if (view.Gateway(gwRef) is { } gw)
                {
                    expected.UnionWith(GatewayChain.RoutingToWorkloadOf(view, gw, EgressSnapshot.HostsOf(vs)).Select(o => o.Key));
                }
            }

            foreach (var host in EgressSnapshot.DestinationHostsOf(vs))
            {
                foreach (var target in GatewayChain.GatewayTargets(view, host))
                {
                    expected.UnionWith(EgressSnapshot.HostsOf(vs).SelectMany(target.LegsFor).Select(l => l.Leg.Key));
                }
            }

            var actual = rule.AffectedBy(vs, view).Select(o => o.Key).ToHashSet();
            Assert.True(expected.SetEquals(actual), $"round {round}: [{string.Join(", ", expected)}] then, [{string.Join(", ", actual)}] now");
            found += expected.Count(k => k != vs.Key);
        }

        Assert.True(found > 20, $"{found} legs found");
    }

    [Fact]
    public void GatewayRefsOfRule_OneShortMatchList_ResolvesAsTheGeneralPath()
    {
        var random = new Random(7);
        var vs = (VirtualService)Assert.Single(ManifestReader.Read(RandomVirtualService(random, 0), "default"));
        var spec = GatewayRefs.Of(vs);
        for (var round = 0; round < 500; round++)
        {
            var list = Enumerable.Range(0, random.Next(1, 10)).Select(_ => GatewayRefNames[random.Next(GatewayRefNames.Length)]).ToList();
            IReadOnlyList<IReadOnlyList<string>> matches = [list];
            var fast = GatewayRefs.OfRule(vs, matches, static m => m, spec);
            var general = GatewayRefs.OfRule(vs, matches.Select(m => m), spec);
            Assert.Equal(general, fast);
        }
    }

    [Fact]
    public void RouteDestinationsAndRules_ShareEqualGatewayLists_WithTheResolvedReferences()
    {
        var random = new Random(11);
        for (var round = 0; round < 200; round++)
        {
            var vs = (VirtualService)Assert.Single(ManifestReader.Read(RandomVirtualService(random, round % 4), "default"));
            var destinations = RouteDestinations.Of(vs);
            var rules = RouteRules.Of(vs);
            var spec = GatewayRefs.Of(vs);
            foreach (var d in destinations)
            {
                IReadOnlyList<IReadOnlyList<string>> matches = d.Kind switch
                {
                    RouteKind.Http => [.. vs.Spec.Http[d.RuleIndex].Match.Select(m => m.Gateways)],
                    RouteKind.Tls => [.. vs.Spec.Tls[d.RuleIndex].Match.Select(m => m.Gateways)],
                    _ => [.. vs.Spec.Tcp[d.RuleIndex].Match.Select(m => m.Gateways)],
                };
                Assert.Equal(GatewayRefs.OfRule(vs, matches.Select(m => m), spec), d.Gateways);
            }

            foreach (var rule in rules)
            {
                var written = rule.Kind switch
                {
                    RouteKind.Http => vs.Spec.Http[rule.Index].Match.Select(m => m.Gateways).ToList(),
                    RouteKind.Tls => vs.Spec.Tls[rule.Index].Match.Select(m => m.Gateways).ToList(),
                    _ => vs.Spec.Tcp[rule.Index].Match.Select(m => m.Gateways).ToList(),
                };
                Assert.Equal(GatewayRefs.OfRule(vs, written.Select(m => m), spec), rule.Gateways);
                for (var j = 0; j < rule.Matches.Count; j++)
                {
                    Assert.Equal<string>(written[j].Count == 0 ? spec : written[j].Select(g => GatewayRefs.Resolve(g, vs.Namespace)), rule.Matches[j].Gateways);
                }
            }

            // equal lists are one instance, a rule's that of its destinations: what is cached per list is computed once
            var lists = destinations.Select(d => d.Gateways).ToList();
            foreach (var a in lists)
            {
                Assert.All(lists.Where(b => b.SequenceEqual(a)), b => Assert.Same(a, b));
            }

            foreach (var rule in rules.Where(r => r.Destinations.Count > 0))
            {
                Assert.Same(rule.Destinations[0].Gateways, rule.Gateways);
            }
        }
    }

    [Fact]
    public void OpenedHostsDelta_OfAVirtualService_IsItsOpenedHostPorts()
    {
        var random = new Random(5);
        for (var round = 0; round < 200; round++)
        {
            var vs = (VirtualService)Assert.Single(ManifestReader.Read(RandomVirtualService(random, round % 4), "default"));
            var expected = OpenedHosts.Of(vs).Select(h => h.HostPort).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var (added, removed) = OpenedHosts.Delta(null, vs);
            Assert.Equal(expected, added);
            Assert.Empty(removed);
        }
    }

    private static void AssertSame(IReadOnlyList<Finding> expected, IReadOnlyList<Finding> actual, string what)
    {
        var e = expected.Select(Describe).ToList();
        var a = actual.Select(Describe).ToList();
        Assert.True(e.SequenceEqual(a), $"{what}:\nbefore:\n{string.Join('\n', e)}\nnow:\n{string.Join('\n', a)}");
    }

    private static string Describe(Finding f) =>
        $"{f.Rule} {f.Severity} {f.Object} {f.Path} | {f.Message} | [{string.Join(", ", f.Related)}] | {f.Awaits} {f.Awaits?.Key} | {f.Policy} {f.Audit}";

    /// <summary>ServiceEntries, DestinationRules with and without the subsets, in and off the lookup path, exported or
    /// not; the egress gateway with its Service; another Gateway; other VirtualServices on the same hosts.</summary>
    private static string Cluster(Random random)
    {
        var docs = new List<string>
        {
            """
            apiVersion: v1
            kind: Service
            metadata: {name: istio-egressgateway, namespace: istio-system, labels: {istio: egressgateway}}
            spec:
              selector: {istio: egressgateway}
              ports: [{port: 443, name: tls}]
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: istio-egressgateway, namespace: istio-system}
            spec:
              selector: {istio: egressgateway}
              servers: [{port: {number: 443, name: tls, protocol: TLS}, hosts: ["*.example.com", "api.example.com"], tls: {mode: PASSTHROUGH}}]
            """,
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: ingress, namespace: team-2}
            spec:
              selector: {app: ingress}
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["other.example.com"]}]
            """,
        };
        foreach (var ns in Namespaces)
        {
            docs.Add($"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}");
        }

        var i = 0;
        foreach (var host in new[] { "api.example.com", "reg.example.com", "*.wild.example.com", "nodr.example.com" })
        {
            if (random.Next(4) == 0)
            {
                continue;
            }

            var ns = Namespaces[random.Next(Namespaces.Length)];
            var exportTo = random.Next(3) == 0 ? $"exportTo: [\"{Namespaces[random.Next(Namespaces.Length)]}\"]" : "";
            docs.Add($$"""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: se{{i++}}, namespace: {{ns}}}
                spec:
                  hosts: ["{{host}}"]
                  location: MESH_EXTERNAL
                  resolution: DNS
                  ports: [{number: 443, name: tls, protocol: TLS}]
                  {{exportTo}}
                """);
        }

        foreach (var host in new[] { "api.example.com", "reg.example.com", "*.wild.example.com", "reviews.team-2.svc.cluster.local", "gone.example.com" })
        {
            for (var k = random.Next(3); k > 0; k--)
            {
                var ns = Namespaces[random.Next(Namespaces.Length)];
                var subsets = string.Join(", ", Subsets.Where(_ => random.Next(2) == 0).Select(s => $"{{name: {s}, labels: {{v: {s}}}}}"));
                var exportTo = random.Next(3) == 0 ? $"exportTo: [\"{(random.Next(2) == 0 ? "." : Namespaces[random.Next(Namespaces.Length)])}\"]" : "";
                docs.Add($$"""
                    apiVersion: networking.istio.io/v1
                    kind: DestinationRule
                    metadata: {name: dr{{i++}}, namespace: {{ns}}}
                    spec:
                      host: "{{host}}"
                      subsets: [{{subsets}}]
                      {{exportTo}}
                    """);
            }
        }

        for (var k = random.Next(5); k > 0; k--)
        {
            docs.Add($$"""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: rival{{i++}}, namespace: {{Namespaces[random.Next(Namespaces.Length)]}}}
                spec:
                  hosts: ["{{Hosts[random.Next(4)]}}"]
                  gateways: {{(random.Next(2) == 0 ? "[mesh]" : "[\"istio-system/istio-egressgateway\"]")}}
                  http:
                  - route:
                    - destination: {host: "{{(random.Next(3) == 0 ? EgressGatewayHost : Hosts[random.Next(4)])}}"}
                """);
        }

        return string.Join("\n---\n", docs);
    }

    /// <summary>A VirtualService of one of four shapes (many hosts, many gateways, many routes, many destinations in one
    /// rule), its lists long enough to go past the cap half of the time, the rest of it random.</summary>
    private static string RandomVirtualService(Random random, int shape)
    {
        int Count(int grown) => random.Next(2) == 0 ? random.Next(1, 6) : grown + random.Next(40);
        string Pick(string[] from) => from[random.Next(from.Length)];
        string Gateways(int count) => "[" + string.Join(", ", Enumerable.Range(0, count).Select(_ => $"\"{Pick(GatewayRefNames)}\"")) + "]";
        string Destination()
        {
            var subset = random.Next(3) == 0 ? "" : $", subset: {Pick(Subsets)}";
            var port = random.Next(2) == 0 ? "" : $", port: {{number: {(random.Next(2) == 0 ? 443 : 80)}}}";
            var host = random.Next(6) == 0 ? EgressGatewayHost : random.Next(4) == 0 ? $"h{random.Next(100)}.example.com" : Pick(Hosts);
            return $"{{host: \"{host}\"{subset}{port}}}";
        }

        string Match() => random.Next(3) switch
        {
            0 => "",
            1 => $"match: [{{gateways: {Gateways(random.Next(1, 3))}, port: 80}}], ",
            _ => $"match: [{{port: 80}}, {{gateways: {Gateways(random.Next(1, 4))}}}], ",
        };

        var hosts = Enumerable.Range(0, shape == 0 ? Count(20) : random.Next(1, 3))
            .Select(_ => random.Next(3) == 0 ? $"h{random.Next(200)}.example.com" : Pick(Hosts));
        var gateways = random.Next(4) == 0 ? "[]" : Gateways(shape == 1 ? Count(20) : random.Next(1, 4));
        var http = new StringBuilder();
        for (var r = shape == 2 ? Count(20) : random.Next(0, 3); r > 0; r--)
        {
            var routes = Enumerable.Range(0, shape == 3 && r == 1 ? Count(20) : random.Next(1, 3)).Select(_ => $"{{destination: {Destination()}}}");
            var mirror = random.Next(5) == 0 ? $", mirror: {Destination()}" : "";
            http.Append(CultureInfo.InvariantCulture, $"  - {{{Match()}route: [{string.Join(", ", routes)}]{mirror}}}\n");
        }

        var tls = new StringBuilder();
        for (var r = random.Next(0, 3); r > 0; r--)
        {
            var sni = string.Join(", ", Enumerable.Range(0, random.Next(1, shape == 0 ? 30 : 3)).Select(_ => $"\"{(random.Next(3) == 0 ? $"s{random.Next(50)}.example.com" : Pick(Hosts))}\""));
            var matchGateways = random.Next(2) == 0 ? "" : $", gateways: {Gateways(random.Next(1, 3))}";
            tls.Append(CultureInfo.InvariantCulture, $"  - {{match: [{{port: 443, sniHosts: [{sni}]{matchGateways}}}], route: [{{destination: {Destination()}}}]}}\n");
        }

        var exportTo = random.Next(3) == 0 ? $"  exportTo: [\"{(random.Next(2) == 0 ? "*" : Pick(Namespaces))}\"]\n" : "";
        return $"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {"{"}name: checked, namespace: {Pick(Namespaces)}{"}"}
            spec:
              hosts: [{string.Join(", ", hosts.Select(h => $"\"{h}\""))}]
              gateways: {gateways}
            {exportTo}  http:
            {(http.Length == 0 ? "    []\n" : http.ToString())}  tls:
            {(tls.Length == 0 ? "    []\n" : tls.ToString())}
            """;
    }
}
