using System.Text.RegularExpressions;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Mutation;

/// <summary>The "Routing candidates" section of <c>../shared/istio-corpus/MANIFEST.md</c>, read at run time: every
/// candidate gets routing that checks clean with the entry alone; every entry listed as skipped gets the notice.</summary>
public sealed partial class RoutingCandidateTests
{
    private static readonly GatewayServiceRef EgressGateway = new("istio-system", "istio-egressgateway");

    public static TheoryData<string, string> Candidates
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var (path, entry) in RoutingSection.Candidates())
            {
                data.Add(path, entry);
            }

            return data;
        }
    }

    public static TheoryData<string, string, string> Skipped
    {
        get
        {
            var data = new TheoryData<string, string, string>();
            foreach (var (path, entry, rule) in RoutingSection.Skipped())
            {
                data.Add(path, entry, rule);
            }

            return data;
        }
    }

    private static Service GatewayService() => Seed.Objects().OfType<Service>().Single();

    private static ServiceEntry EntryOf(string path, string name) =>
        Corpus.Read(Corpus.Files.Single(f => f.Path == path)).OfType<ServiceEntry>().Single(se => se.Name == name);

    [Fact]
    public void Manifest_ListsCandidatesAndSkippedEntries()
    {
        // guards the parser: the section names at least this many entries (13 lines, 01..04 expanded)
        Assert.True(RoutingSection.Candidates().Count >= 16, string.Join('\n', RoutingSection.Candidates()));
        Assert.True(RoutingSection.Skipped().Count >= 13, string.Join('\n', RoutingSection.Skipped()));
    }

    [Theory]
    [MemberData(nameof(Candidates))]
    public void Plan_Candidate_RoutesEveryPortAndChecksCleanWithTheEntryAlone(string path, string name)
    {
        var entry = EntryOf(path, name);
        var service = GatewayService();

        var plan = RoutingPlanner.Plan(entry, EgressGateway, SnapshotView.Of(EgressSnapshot.Create([entry, service])));

        Assert.True(plan.Routed, string.Join('\n', plan.Notices));
        Assert.Empty(plan.Notices);
        var rendered = ManifestReader.Read(ManifestWriter.ToYaml(plan.Objects));
        var objects = new EgressObject[] { entry, service }.Concat(rendered).ToList();
        foreach (var host in entry.Spec.Hosts)
        {
            foreach (var port in entry.Spec.Ports)
            {
                EgressChain.Follow(objects, host, port.Number).AssertConsistent(service, entry);
            }
        }

        foreach (var outbound in new[] { OutboundPolicies.AllowAny, OutboundPolicies.RegistryOnly })
        {
            var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default with { OutboundPolicy = outbound });
            Assert.True(report.Findings.Count == 0, $"{outbound}:\n{string.Join('\n', report.Findings)}");
        }
    }

    [Theory]
    [MemberData(nameof(Candidates))]
    public void Plan_CandidateBesideItsFile_RoutesOrRefusesWithEgw405NeverDuplicates(string path, string name)
    {
        var file = Corpus.Read(Corpus.Files.Single(f => f.Path == path)).ToList();
        var entry = file.OfType<ServiceEntry>().Single(se => se.Name == name);

        var plan = RoutingPlanner.Plan(entry, EgressGateway, SnapshotView.Of(EgressSnapshot.Create([.. file, GatewayService()])));

        if (plan.Routed)
        {
            var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create([.. file, GatewayService(), .. plan.Objects]), RuleSettings.Default);
            Assert.DoesNotContain(report.Findings, f => f.Rule is RuleIds.DuplicateMeshVirtualService or RuleIds.ConflictingGateways);
        }
        else
        {
            Assert.NotEmpty(plan.Notices);
            Assert.All(plan.Notices, n => Assert.Equal(RuleIds.RoutingSkippedConflictingRoute, n.Rule));
        }
    }

    [Fact]
    public void Plan_HttpbinWithItsTimeoutVirtualService_RefusesWithEgw405NamingIt()
    {
        // docs/egress-control/03: the routing candidate whose file has a mesh VirtualService for the host
        var path = RoutingSection.Candidates().Select(c => c.Path).First(p => p.Contains("egress-control/03", StringComparison.Ordinal));
        var file = Corpus.Read(Corpus.Files.Single(f => f.Path == path)).ToList();

        var plan = RoutingPlanner.Plan(file.OfType<ServiceEntry>().Single(), EgressGateway, SnapshotView.Of(EgressSnapshot.Create([.. file, GatewayService()])));

        var notice = Assert.Single(plan.Notices);
        Assert.Equal(RuleIds.RoutingSkippedConflictingRoute, notice.Rule);
        Assert.Equal([new ObjectRef("VirtualService", "default", "httpbin-ext")], notice.Related);
    }

    [Theory]
    [MemberData(nameof(Skipped))]
    public void Plan_SkippedEntry_IsLeftOutWithTheReason(string path, string name, string rule)
    {
        var file = Corpus.Read(Corpus.Files.Single(f => f.Path == path)).ToList();
        var entry = file.OfType<ServiceEntry>().Single(se => se.Name == name);

        var plan = RoutingPlanner.Plan(entry, EgressGateway, SnapshotView.Of(EgressSnapshot.Create([.. file, GatewayService()])));

        Assert.False(plan.Routed);
        Assert.Contains(plan.Notices, n => n.Rule == rule);
        Assert.All(plan.Notices, n => Assert.Equal(Severity.Warning, n.Severity));
    }

    /// <summary>Parses the bullet lists of the MANIFEST's routing section.</summary>
    internal static partial class RoutingSection
    {
        public static IReadOnlyList<(string Path, string Entry)> Candidates()
        {
            var result = new List<(string, string)>();
            foreach (var line in Bullets(skipped: false))
            {
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                var names = Regex.Replace(line[(colon + 2)..], @"\(.*\)", "");
                foreach (var path in Files(line[..colon].Trim()))
                {
                    result.AddRange(names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => (path, n)));
                }
            }

            return result;
        }

        public static IReadOnlyList<(string Path, string Entry, string Rule)> Skipped()
        {
            var result = new List<(string, string, string)>();
            foreach (var line in Bullets(skipped: true))
            {
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                var reason = line[..colon];
                var rule = reason.Contains("Gateway API", StringComparison.Ordinal) ? RuleIds.RoutingSkippedGatewayApiRoute
                    : reason.Contains("wildcard", StringComparison.Ordinal) ? RuleIds.RoutingSkippedWildcardHost
                    : reason.Contains("CIDR", StringComparison.Ordinal) ? RuleIds.RoutingSkippedCidr
                    : reason.Contains("resolution", StringComparison.Ordinal) ? RuleIds.RoutingSkippedResolution
                    : throw new InvalidOperationException($"unknown skip reason: {reason}");
                string? path = null;
                foreach (var item in line[(colon + 2)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var words = item.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
                    if (words[0].Contains('/', StringComparison.Ordinal))
                    {
                        path = Files(words[0]).Single();
                        words.RemoveAt(0);
                    }

                    Assert.NotNull(path);
                    var entries = Corpus.Read(Corpus.Files.Single(f => f.Path == path)).OfType<ServiceEntry>().Select(se => se.Name).ToHashSet();
                    var named = words.Select(w => w.Replace("'s", "", StringComparison.Ordinal)).Where(entries.Contains).ToList();
                    Assert.True(named.Count > 0, $"no ServiceEntry of {path} named in '{item}'");
                    result.AddRange(named.Select(n => (path, n, rule)));
                }
            }

            return result;
        }

        /// <summary><c>docs/x/01-a.yaml</c> as is; <c>docs/x/03</c> = the file numbered 03; <c>docs/x/01..04</c> = files 01 to 04.</summary>
        private static IEnumerable<string> Files(string spec)
        {
            if (Corpus.Files.Any(f => f.Path == spec))
            {
                return [spec];
            }

            var dir = spec[..spec.LastIndexOf('/')];
            var last = spec[(spec.LastIndexOf('/') + 1)..];
            var range = last.Split("..");
            var from = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            var to = int.Parse(range[^1], System.Globalization.CultureInfo.InvariantCulture);
            var files = Enumerable.Range(from, to - from + 1)
                .Select(n => Corpus.Files.Single(f => f.Path.StartsWith($"{dir}/{n:00}-", StringComparison.Ordinal)).Path).ToList();
            return files;
        }

        private static IEnumerable<string> Bullets(bool skipped)
        {
            var lines = File.ReadAllLines(Path.Combine(TestPaths.Corpus, "MANIFEST.md"));
            var start = Array.FindIndex(lines, l => l.StartsWith("## Routing candidates", StringComparison.Ordinal));
            Assert.True(start >= 0, "MANIFEST.md has no 'Routing candidates' section");
            var inSkipped = false;
            for (var i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
            {
                if (lines[i].StartsWith("Must be skipped", StringComparison.Ordinal))
                {
                    inSkipped = true;
                }
                else if (lines[i].StartsWith("- ", StringComparison.Ordinal) && inSkipped == skipped)
                {
                    yield return lines[i][2..];
                }
            }
        }
    }
}
