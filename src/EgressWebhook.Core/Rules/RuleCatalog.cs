using EgressWebhook.Core.Rules.CrossResource;

namespace EgressWebhook.Core.Rules;

/// <summary>Every rule of the catalogue, in id order. A new rule is one file plus one line here.</summary>
public static class RuleCatalog
{
    public static IReadOnlyList<IEgressRule> All { get; } =
    [
        new Egw101DestinationHostNotRegistered(),
        new Egw102DestinationPortUnknown(),
        new Egw103VirtualServiceHostNotRegistered(),
        new Egw104GatewayReference(),
        new Egw107SubsetNotFound(),
        new Egw115GatewayToNoneResolutionLoop(),
    ];
}
