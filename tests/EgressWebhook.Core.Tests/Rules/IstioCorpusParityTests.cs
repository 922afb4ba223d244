using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>The corpus files Istio's analyzers and per-resource validation were tested on, with their expectations
/// from <c>manifest.yaml</c>: our rules must agree where a check maps to one of them.</summary>
public sealed class IstioCorpusParityTests
{
    /// <summary>Istio analyzer → (our rule, the IST codes it mirrors).</summary>
    private static readonly Dictionary<string, (string Rule, string[] Codes)> Analyzers = new(StringComparer.Ordinal)
    {
        ["destinationrule.CaCertificateAnalyzer"] = (RuleIds.TlsOriginationWithoutCa, ["IST0128", "IST0129"]),
        ["serviceentry.ProtocolAddressesAnalyzer"] = (RuleIds.ServiceEntryNeedsAddresses, ["IST0134"]),
    };

    public static TheoryData<string, int> AnalyzerTests()
    {
        var data = new TheoryData<string, int>();
        foreach (var (file, index, analyzer, _, _) in AnalyzerRuns())
        {
            if (Analyzers.ContainsKey(analyzer))
            {
                data.Add(file.Path, index);
            }
        }

        return data;
    }

    /// <summary>Each analyzer test case: as many warnings of our rule as Istio's messages (one per DestinationRule
    /// TLS block / ServiceEntry port), on the same objects, and never an error.</summary>
    [Theory]
    [MemberData(nameof(AnalyzerTests))]
    public void CheckAll_AnalyzerTestCase_MatchesIstioMessages(string path, int testIndex)
    {
        var (file, _, analyzer, otherInputs, expected) = AnalyzerRuns().Single(r => r.File.Path == path && r.Index == testIndex);
        var (rule, codes) = Analyzers[analyzer];
        var objects = Corpus.Read(file with { OtherInputs = otherInputs });

        var findings = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), RuleSettings.Default).Findings.Where(f => f.Rule == rule).ToList();

        var expectedNames = expected.Where(e => codes.Any(c => e.StartsWith(c, StringComparison.Ordinal)))
            .Select(e => e[(e.LastIndexOf(' ') + 1)..].Split('/')[^1]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedNames, findings.Select(f => f.Object.Name).Order(StringComparer.Ordinal).ToList());
        Assert.All(findings, f => Assert.Equal(Severity.Warning, f.Severity));
    }

    /// <summary>The TLS-origination walkthroughs the corpus marks as warning-only for IST0128/IST0129.</summary>
    [Theory]
    [InlineData("docs/egress-tls-origination/02-tls-origination-sidecar-se-targetport-dr.yaml", 1)]
    [InlineData("docs/egress-gateway-tls-origination/01-tls-origination-se-gw-dr-vs-dr.yaml", 1)]
    [InlineData("samples/egress-rule-google-apis.yaml", 1)]
    [InlineData("docs/egress-tls-origination/03-mtls-origination-sidecar.yaml", 0)]
    [InlineData("docs/egress-gateway-tls-origination/03-mtls-origination-k8s-svc-gw-dr-vs-dr.yaml", 1)]
    public void CheckAll_TlsOriginationWalkthrough_WarnsEgw111(string path, int expected)
    {
        var file = Corpus.Files.Single(f => f.Path == path);

        var findings = EgressEngine.Default.CheckAll(EgressSnapshot.Create(Corpus.Read(file)), RuleSettings.Default).Findings
            .Where(f => f.Rule == RuleIds.TlsOriginationWithoutCa).ToList();

        Assert.Equal(expected, findings.Count);
        Assert.All(findings, f => Assert.Equal(Severity.Warning, f.Severity));
    }

    /// <summary>Istio's per-resource rejections (<c>_err</c> of each object) that one of our rules covers.
    /// The others are outside the catalogue (required fields, selectors, host syntax, DNS_ROUND_ROBIN endpoint
    /// count, load-balancer warmup) and must not be reported as one of our per-object errors either.</summary>
    private static readonly Dictionary<string, string?> RejectionRules = new(StringComparer.Ordinal)
    {
        ["CIDR addresses are allowed only for NONE/STATIC resolution types"] = RuleIds.CidrNeedsNoneOrStatic,
        ["Duplicate value"] = RuleIds.InvalidPorts,
        ["port number cannot be duplicated"] = RuleIds.InvalidPorts,
        ["port must be between 1-65535"] = RuleIds.InvalidPorts,
        ["NONE mode cannot set endpoints"] = RuleIds.EndpointsInconsistent,
        ["spec: Required value"] = null,
        ["spec.hosts: Required value"] = null,
        ["wildcard is not supported in selector"] = null,
        // the object also has endpoints with an unset (NONE) resolution, which Istio rejects too
        ["only one of WorkloadSelector or Endpoints can be set"] = RuleIds.EndpointsInconsistent,
        ["hostname cannot be wildcard"] = null,
        ["DNS_ROUND_ROBIN mode cannot have multiple endpoints"] = null,
        ["spec.trafficPolicy.loadBalancer.warmup.minimumPercent: Invalid value"] = null,
        ["spec.trafficPolicy.loadBalancer.warmup.duration: Required value"] = null,
        ["spec.trafficPolicy.loadBalancer.warmup.aggression: Invalid value"] = null,
    };

    public static TheoryData<string, int> RejectedObjects()
    {
        var data = new TheoryData<string, int>();
        foreach (var (path, index, _, _) in Rejections())
        {
            data.Add(path, index);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RejectedObjects))]
    public void CheckAll_IstioRejectedObject_FiresMappedRule(string path, int index)
    {
        var (_, _, error, obj) = Rejections().Single(r => r.Path == path && r.Index == index);
        Assert.True(RejectionRules.TryGetValue(error, out var rule), $"{path} {obj.Name}: _err '{error}' is not in the mapping table");

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create([obj]), RuleSettings.Default);

        var ours = report.Findings.Where(f => f.Rule.StartsWith("EGW2", StringComparison.Ordinal) && f.Severity == Severity.Error).ToList();
        if (rule is null)
        {
            Assert.Empty(ours);
        }
        else
        {
            Assert.Contains(ours, f => f.Rule == rule);
        }
    }

    private static IEnumerable<(CorpusFile File, int Index, string Analyzer, List<string> OtherInputs, List<string> Expected)> AnalyzerRuns()
    {
        var root = YamlJson.ParseDocuments(File.ReadAllText(Path.Combine(TestPaths.Corpus, "manifest.yaml")))[0].Json;
        foreach (var entry in root.GetProperty("files").GetProperty("analyzers").EnumerateArray())
        {
            if (!entry.TryGetProperty("tests", out var tests) || tests.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var file = Corpus.Files.Single(f => f.Path == entry.GetProperty("path").GetString());
            var index = 0;
            foreach (var test in tests.EnumerateArray())
            {
                if (test.GetProperty("role").GetString() == "input")
                {
                    yield return (file, index, test.GetProperty("analyzer").GetString()!, Strings(test, "other_inputs"), Strings(test, "expected"));
                }

                index++;
            }
        }
    }

    private static List<string> Strings(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
            : [];

    /// <summary>Each object with an <c>_err</c>, by its position among the file's documents.</summary>
    private static IEnumerable<(string Path, int Index, string Error, Model.EgressObject Object)> Rejections()
    {
        foreach (var path in (string[])["validation-crds/serviceentry-invalid.yaml", "validation-crds/destinationrule-invalid.yaml"])
        {
            var index = -1;
            foreach (var doc in YamlJson.ParseDocuments(File.ReadAllText(Path.Combine(TestPaths.Corpus, path))))
            {
                index++;
                if (doc.Json.ValueKind != JsonValueKind.Object || !doc.Json.TryGetProperty("_err", out var err) ||
                    ObjectDecoder.Decode(doc.Json, "default") is not { } obj)
                {
                    continue;
                }

                yield return (path, index, err.GetString()!, obj);
            }
        }
    }
}
