using System.Collections.Frozen;
using System.Reflection;

namespace EgressWebhook.Core.Rules;

/// <summary>Stable rule ids (the catalogue). An id is never reused or renumbered.</summary>
public static class RuleIds
{
    public const string DestinationHostNotRegistered = "EGW101";
    public const string DestinationPortUnknown = "EGW102";
    public const string VirtualServiceHostNotRegistered = "EGW103";
    public const string GatewayReference = "EGW104";
    public const string PassthroughPortChain = "EGW105";
    public const string GatewayWorkload = "EGW106";
    public const string SubsetNotFound = "EGW107";
    public const string DuplicateMeshVirtualService = "EGW108";
    public const string ConflictingGateways = "EGW109";
    public const string ConflictingServiceEntryProtocol = "EGW110";
    public const string TlsOriginationWithoutCa = "EGW111";
    public const string ServiceEntryNeedsAddresses = "EGW112";
    public const string IncompleteEgressChain = "EGW113";
    public const string DeleteLeavesDanglingReference = "EGW114";
    public const string GatewayToNoneResolutionLoop = "EGW115";
    public const string GatewayLegLoopsToGateway = "EGW116";
    public const string MeshConfigUnusable = "EGW117";
    public const string HostInSeveralNamespaces = "EGW118";

    public const string CidrNeedsNoneOrStatic = "EGW201";
    public const string DnsResolutionWildcardHost = "EGW202";
    public const string EndpointsInconsistent = "EGW203";
    public const string MultiHostNeedsHttpOrTls = "EGW204";
    public const string InvalidPorts = "EGW205";
    public const string GatewayServerTls = "EGW206";
    public const string TlsRouteMatch = "EGW207";
    public const string DestinationRuleTlsSettings = "EGW208";
    public const string HostTooLong = "EGW209";
    public const string ListOverSchemaLimit = "EGW210";

    /// <summary>Platform guardrails (EGW3xx): what an EgressPolicy allows a namespace to open (docs/policy.md).</summary>
    public const string PolicyHostNotAllowed = "EGW301";
    public const string PolicyRequiredGateway = "EGW302";
    public const string PolicyWildcardHost = "EGW303";
    public const string PolicyExportTo = "EGW304";
    public const string PolicySidecarAllowAny = "EGW305";
    public const string PolicySidecarHostsNoBoundary = "EGW306";
    public const string PolicyMeshInternalHost = "EGW307";
    public const string PolicyInvalid = "EGW308";

    /// <summary>Mutation notices (EGW4xx): why a ServiceEntry was or was not given egress-gateway routing.</summary>
    public const string RoutingSkippedWildcardHost = "EGW401";
    public const string RoutingSkippedResolution = "EGW402";
    public const string RoutingSkippedCidr = "EGW403";
    public const string RoutingSkippedGatewayApiRoute = "EGW404";
    public const string RoutingSkippedConflictingRoute = "EGW405";
    public const string RoutingSkippedNoGateway = "EGW406";
    public const string RoutingSkippedPortProtocol = "EGW407";
    public const string RoutingSkippedMeshInternal = "EGW408";
    public const string RoutingSkippedNotVisible = "EGW409";
    public const string PortLeftUnnamed = "EGW410";
    public const string RoutingSkippedNoWaypoint = "EGW412";
    public const string RoutingSkippedSchemaLimits = "EGW413";

    /// <summary>Ambient mode (EGW50x): the waypoint chain of a ServiceEntry, and what ambient does not enforce.</summary>
    public const string WaypointBinding = "EGW501";
    public const string WaypointVisibility = "EGW502";
    public const string AmbientWildcardWithoutWaypoint = "EGW503";
    public const string DynamicDnsMisuse = "EGW504";
    public const string PolicyTargetNotFound = "EGW505";
    public const string WaypointTlsOrigination = "EGW506";
    public const string AmbientRegistryOnlyIgnored = "EGW507";
    public const string AmbientExportToIgnored = "EGW508";

    /// <summary>Gateway API egress in sidecar mode (EGW51x): routes with a ServiceEntry parent and the gateway they go through.</summary>
    public const string RouteParentServiceEntryMissing = "EGW511";
    public const string RouteBackendNotGatewayService = "EGW512";
    public const string ListenerRejectsRoute = "EGW513";
    public const string HostnameBackendPortUnknown = "EGW514";
    public const string ReferenceGrantMissing = "EGW515";
    public const string RoutingSkippedPolicyForbids = "EGW411";

    /// <summary>Every id above (case-insensitive), for checking per-rule settings such as <c>EGW105=warn</c>.</summary>
    public static FrozenSet<string> All { get; } = typeof(RuleIds).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
}
