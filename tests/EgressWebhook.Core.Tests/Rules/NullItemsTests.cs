using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>Hand-written manifests may hold <c>~</c> list items or empty objects; no rule of this set may throw.
/// The object is checked as an admission against an empty snapshot (the webhook's path: the object is not indexed).</summary>
public sealed class NullItemsTests
{
    private static readonly string[] Ids =
    [
        RuleIds.TlsOriginationWithoutCa, RuleIds.ServiceEntryNeedsAddresses, RuleIds.CidrNeedsNoneOrStatic, RuleIds.DnsResolutionWildcardHost,
        RuleIds.EndpointsInconsistent, RuleIds.MultiHostNeedsHttpOrTls, RuleIds.InvalidPorts, RuleIds.GatewayServerTls, RuleIds.TlsRouteMatch,
        RuleIds.DestinationRuleTlsSettings,
    ];

    private static readonly EgressEngine Engine = new(RuleCatalog.All.Where(r => r.Ids.Any(Ids.Contains)));

    [Theory]
    [InlineData("ServiceEntry", "hosts: [~, a.example.com, b.example.com]\naddresses: [~]\nports: [~, {}]\nendpoints: [~, {ports: {}}]\nresolution: STATIC")]
    [InlineData("ServiceEntry", "hosts: ['*.x.com']\nports: [{number: 1, name: ~, protocol: ~}]\nendpoints: [{address: ~}]\nresolution: DNS")]
    [InlineData("Gateway", "servers: [~, {}, {port: {}}, {port: {number: 443, protocol: HTTPS}, tls: {}}, {port: {number: 80, protocol: HTTP}, tls: {credentialNames: [~]}}]")]
    [InlineData("VirtualService", "hosts: [~]\ntls: [~, {}, {match: [~, {}, {sniHosts: [~, a.com]}]}]")]
    [InlineData("DestinationRule", "trafficPolicy: {tls: {}, portLevelSettings: [~, {}, {tls: {mode: MUTUAL}}]}\nsubsets: [~, {}, {name: v1, trafficPolicy: {tls: {mode: SIMPLE}}}]")]
    public void CheckAll_NullAndEmptyItems_DoesNotThrow(string kind, string spec)
    {
        var yaml = $"apiVersion: networking.istio.io/v1\nkind: {kind}\nmetadata: {{name: t}}\nspec:\n" +
                   string.Join('\n', spec.Split('\n').Select(l => "  " + l));
        IReadOnlyList<Model.EgressObject> objects;
        try
        {
            objects = ManifestReader.Read(yaml);
        }
        catch (DecodeException)
        {
            return; // rejected by the decoder with a field path: fine, it never reaches the rules
        }

        var report = Engine.CheckChange(EgressSnapshot.Create([]), new ObjectChange(Operation.Create, Assert.Single(objects), null), RuleSettings.Default);

        Assert.All(report.Findings, f => Assert.NotEqual("", f.Path));
        Assert.NotEmpty(report.Findings);
    }
}
