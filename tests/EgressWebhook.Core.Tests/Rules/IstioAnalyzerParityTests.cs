using System.Text.Json;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Tests.Infrastructure;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>For the analyzer fixtures our rules mirror, the objects a rule flags are exactly the objects Istio's
/// analyzer flags in the corpus index (<c>tests[0].expected</c> of <c>manifest.yaml</c>).</summary>
public sealed class IstioAnalyzerParityTests
{
    [Theory]
    [InlineData("analyzers/virtualservice_conflictingmeshgatewayhosts.yaml", "IST0109", RuleIds.DuplicateMeshVirtualService)]
    [InlineData("analyzers/virtualservice_conflictingmeshgatewayhosts_with_exportto.yaml", "IST0109", RuleIds.DuplicateMeshVirtualService)]
    [InlineData("analyzers/analyze-list-type.yaml", "IST0145", RuleIds.ConflictingGateways)]
    [InlineData("analyzers/conflicting-gateways.yaml", "IST0145", RuleIds.ConflictingGateways)]
    [InlineData("analyzers/conflicting-gateways-multiple-ports.yaml", "IST0145", RuleIds.ConflictingGateways)]
    [InlineData("analyzers/conflicting-gateways-subSelector.yaml", "IST0145", RuleIds.ConflictingGateways)]
    [InlineData("analyzers/conflicting-gateways-invalid-port.yaml", "IST0145", RuleIds.ConflictingGateways)]
    [InlineData("analyzers/gateway-different-port.yaml", "IST0145", RuleIds.ConflictingGateways)]
    [InlineData("analyzers/serviceentry-conflicting-protocol.yaml", "IST0177", RuleIds.ConflictingServiceEntryProtocol)]
    [InlineData("analyzers/serviceentry-conflicting-exportto.yaml", "IST0177", RuleIds.ConflictingServiceEntryProtocol)]
    [InlineData("analyzers/serviceentry-no-conflict-protocol.yaml", "IST0177", RuleIds.ConflictingServiceEntryProtocol)]
    [InlineData("analyzers/gateway-custom-ingressgateway-badport.yaml", "IST0162", RuleIds.GatewayWorkload)]
    [InlineData("analyzers/gateway-custom-ingressgateway-badport-notarget.yaml", "IST0162", RuleIds.GatewayWorkload)]
    [InlineData("analyzers/gateway-custom-ingressgateway-svcselector.yaml", "IST0162", RuleIds.GatewayWorkload)]
    [InlineData("analyzers/gateway-custom-ingressgateway-translation.yaml", "IST0162", RuleIds.GatewayWorkload)]
    [InlineData("analyzers/gateway-custom-ingressgateway.yaml", "IST0162", RuleIds.GatewayWorkload)]
    [InlineData("analyzers/gateway-correct-port.yaml", "IST0162", RuleIds.GatewayWorkload)]
    public void CheckAll_AnalyzerFixture_FlagsTheObjectsIstioFlags(string path, string istioCode, string rule)
    {
        var file = Corpus.Files.Single(f => f.Path == path);

        var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(Corpus.Read(file)), RuleSettings.Default);

        var flagged = report.Findings.Where(f => f.Rule == rule).Select(f => f.Object.ToString()).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(Expected(path, istioCode), flagged);
    }

    /// <summary><c>IST0145 ConflictingGateways @ Gateway alpha</c> → <c>Gateway default/alpha</c>.</summary>
    private static IEnumerable<string> Expected(string path, string code)
    {
        var root = YamlJson.ParseDocuments(File.ReadAllText(Path.Combine(TestPaths.Corpus, "manifest.yaml")))[0].Json;
        var entry = root.GetProperty("files").EnumerateObject()
            .SelectMany(g => g.Value.EnumerateArray())
            .Single(f => f.GetProperty("path").GetString() == path);
        var test = entry.GetProperty("tests")[0];
        if (!test.TryGetProperty("expected", out var expected) || expected.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return expected.EnumerateArray()
            .Select(e => e.GetString()!)
            .Where(e => e.StartsWith(code + " ", StringComparison.Ordinal))
            .Select(e =>
            {
                var target = e[(e.IndexOf(" @ ", StringComparison.Ordinal) + 3)..].Split(' ');
                return target[1].Contains('/', StringComparison.Ordinal) ? $"{target[0]} {target[1]}" : $"{target[0]} default/{target[1]}";
            })
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
