using EgressWebhook.Core.Rules.CrossResource;

namespace EgressWebhook.Core.Rules;

/// <summary>Every rule of the catalogue, in id order. A new rule is one file plus one line here.</summary>
public static class RuleCatalog
{
    public static IReadOnlyList<IEgressRule> All { get; } =
    [
        new Egw105PassthroughPortChain(),
        new Egw106GatewayWorkload(),
        new Egw108DuplicateMeshVirtualService(),
        new Egw109ConflictingGateways(),
        new Egw110ConflictingServiceEntryProtocol(),
        new Egw113IncompleteEgressChain(),
    ];
}
