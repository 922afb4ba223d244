using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using static EgressWebhook.Core.Tests.Rules.CrossResource.CrossResourceFixtures;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>EGW114: a delete that leaves a VirtualService with a dangling reference.</summary>
public sealed class Egw114DeleteLeavesDanglingReferenceTests
{
    [Theory]
    [InlineData("ServiceEntry", RuleIds.DestinationHostNotRegistered)]
    [InlineData("Gateway", RuleIds.GatewayReference)]
    [InlineData("DestinationRule", RuleIds.SubsetNotFound)]
    public void CheckChange_DeletingWhatAVirtualServiceUses_WarnsEgw114(string kind, string cause)
    {
        var objects = ManifestReader.Read(string.Join("\n---\n", Se("se", "api.example.com"), EgressGateway("api.example.com"),
            Dr("default", "api.example.com", "v1"), Vs("api.example.com", "api.example.com", gateways: "[egress]", destExtra: "subset: v1, port: {number: 443}")), "default");
        var deleted = objects.Single(o => o.KindName == kind);

        var report = EgressEngine.Default.CheckChange(EgressSnapshot.Create(objects), new ObjectChange(Operation.Delete, null, deleted), RuleSettings.Default);

        Assert.Contains(report.Findings, f => f.Rule == RuleIds.DeleteLeavesDanglingReference && f.Severity == Severity.Warning &&
                                              f.Object == deleted.Ref && f.Message.Contains(cause, StringComparison.Ordinal));
        Assert.All(report.Findings, f => Assert.Equal(RuleIds.DeleteLeavesDanglingReference, f.Rule));
    }
}
