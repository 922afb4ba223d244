using System.Collections.Frozen;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules.Ambient;
using EgressWebhook.Core.Rules.CrossResource;
using EgressWebhook.Core.Rules.GatewayApi;
using EgressWebhook.Core.Rules.Guardrails;
using EgressWebhook.Core.Rules.PerObject;

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
        new Egw105PassthroughPortChain(),
        new Egw106GatewayWorkload(),
        new Egw107SubsetNotFound(),
        new Egw108DuplicateMeshVirtualService(),
        new Egw109ConflictingGateways(),
        new Egw110ConflictingServiceEntryProtocol(),
        new Egw111TlsOriginationWithoutCa(),
        new Egw112ServiceEntryNeedsAddresses(),
        new Egw113IncompleteEgressChain(),
        new Egw115GatewayToNoneResolutionLoop(),
        new Egw116GatewayLegLoopsToGateway(),
        new Egw117MeshConfigUnusable(),
        new Egw118HostInSeveralNamespaces(),
        new ValidatorRule<ServiceEntry>(new ServiceEntryValidator(), RuleIds.CidrNeedsNoneOrStatic, RuleIds.DnsResolutionWildcardHost,
            RuleIds.EndpointsInconsistent, RuleIds.MultiHostNeedsHttpOrTls, RuleIds.InvalidPorts),
        new ValidatorRule<Gateway>(new GatewayValidator(), RuleIds.InvalidPorts, RuleIds.GatewayServerTls),
        new ValidatorRule<VirtualService>(new VirtualServiceValidator(), RuleIds.TlsRouteMatch),
        new ValidatorRule<DestinationRule>(new DestinationRuleValidator(), RuleIds.DestinationRuleTlsSettings),
        new Egw209HostTooLong(),
        new Egw210ListOverSchemaLimit(),
        new Egw501WaypointBinding(),
        new Egw502WaypointVisibility(),
        new Egw503AmbientWildcardWithoutWaypoint(),
        new Egw504DynamicDnsMisuse(),
        new Egw505PolicyTargetNotFound(),
        new Egw506WaypointTlsOrigination(),
        new Egw507AmbientRegistryOnlyIgnored(),
        new Egw508AmbientExportToIgnored(),
        new Egw511RouteParentServiceEntryMissing(),
        new Egw512RouteBackendNotGatewayService(),
        new Egw513ListenerRejectsRoute(),
        new Egw514HostnameBackendPortUnknown(),
        new Egw515ReferenceGrantMissing(),
        new Egw301HostNotAllowed(),
        new Egw302RequiredGateway(),
        new Egw303WildcardHost(),
        new Egw304ExportTo(),
        new Egw305SidecarReopensAllowAny(),
        new Egw306SidecarHostsNoBoundary(),
        new Egw307MeshInternalHost(),
        new Egw308PolicyInvalid(),
    ];

    /// <summary>The ids a per-rule enforcement (<c>Webhook:Rules:EGW105=Warn</c>, <c>--rule EGW105=warn</c>) applies to:
    /// every id a rule of <see cref="All"/> reports, and EGW114 (the engine's delete check). The EGW4xx ids are reasons
    /// the mutation gives for routing it left out, not findings with a severity, so they are not among them.</summary>
    public static FrozenSet<string> EnforceableIds { get; } = All.SelectMany(r => r.Ids).Append(RuleIds.DeleteLeavesDanglingReference)
        .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
}
