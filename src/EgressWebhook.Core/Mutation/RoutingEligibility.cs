using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.Guardrails;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>Whether a ServiceEntry may get egress-gateway routing at all, before any object is planned: the entry itself
/// (hosts, location, addresses, resolution, Gateway API routes), the EgressPolicies over its namespace (EGW411), and what
/// the checks would refuse because of where the generated legs run (EGW409). Each adds its notices; any notice leaves
/// the entry out (<see cref="RoutingPlanner.Plan"/>).</summary>
internal static class RoutingEligibility
{
    /// <summary>EGW413: the notice for an entry under admission that EGW210 refuses (<paramref name="excess"/>, a list
    /// longer than Istio's CRD allows): the API server refuses it after the mutating webhook and the validating webhook
    /// with EGW210, so <see cref="Admission.AdmissionPipeline.Mutate"/> defaults and plans nothing for it.</summary>
    public static Finding OverSchemaLimits(ServiceEntry entry, SchemaLimits.Excess excess) =>
        RoutingNotice.Warning(RuleIds.RoutingSkippedSchemaLimits, entry, excess.Path, $"{excess.Items}: the API server refuses the entry (EGW210), so no routing");

    /// <summary>EGW401-EGW404, EGW408: what in the entry itself keeps it from routing through a gateway (no or wildcard
    /// hosts, a CIDR address, a resolution other than DNS, a Gateway API route that routes it, not MESH_EXTERNAL).
    /// EGW404 is for sidecar-mode namespaces only: in an ambient one the routing is the entry's waypoint label, which
    /// competes with no route (<see cref="WaypointRouting.RoutesAtWaypoint"/>).</summary>
    public static void CheckEntry(ServiceEntry entry, SnapshotView view, List<Finding> notices)
    {
        var spec = entry.Spec;
        var wildcard = false;
        var ambient = WaypointRouting.Applies(entry, view);
        var dynamicDns = ambient ? AmbientDynamicDns.Routed(entry) : null;
        if (spec.Hosts.Count == 0)
        {
            notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedWildcardHost, entry, "spec.hosts", "has no hosts: there is nothing to route through the egress gateway; add spec.hosts"));
        }

        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            if (HostName.IsWildcard(spec.Hosts[i]))
            {
                wildcard = true;
                if (dynamicDns is { Qualifies: true })
                {
                    continue; // ambient: the waypoint resolves it per request (AmbientDynamicDns)
                }

                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedWildcardHost, entry, $"spec.hosts[{i}]", dynamicDns?.Why is { } why
                    ? $"host {spec.Hosts[i]} is a wildcard: {why}"
                    : $"host {spec.Hosts[i]} is a wildcard the gateway cannot resolve; route exact hosts in their own DNS ServiceEntry"));
            }
        }

        if (spec.EffectiveLocation != Locations.MeshExternal)
        {
            notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedMeshInternal, entry, "spec.location",
                $"location {spec.EffectiveLocation}: egress-gateway routing is for MESH_EXTERNAL entries; set it or opt out"));
        }

        for (var i = 0; i < spec.Addresses.Count; i++)
        {
            if (spec.Addresses[i].Contains('/', StringComparison.Ordinal))
            {
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedCidr, entry, $"spec.addresses[{i}]",
                    $"address {spec.Addresses[i]} is a CIDR range, not routable by host; opt out with {RoutingAnnotations.Routing}: disabled"));
                break;
            }
        }

        var resolution = spec.EffectiveResolution;
        if (resolution is not (Resolutions.Dns or Resolutions.DnsRoundRobin) && !(wildcard && string.IsNullOrEmpty(spec.Resolution)) && dynamicDns is not { Qualifies: true })
        {
            var shown = string.IsNullOrEmpty(spec.Resolution) ? "unset (NONE)" : resolution;
            var why = resolution == Resolutions.None ? "the gateway would send the traffic to itself in a loop" : "routing is given to DNS entries only";
            notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedResolution, entry, "spec.resolution", $"resolution {shown}: {why}; set resolution: DNS"));
        }

        if (ambient)
        {
            // ambient: nothing is generated that could compete with a Gateway API route. A route with the entry as
            // parentRef is applied by the waypoint the entry is bound to (ztunnel applies no route, so without the label
            // the route never takes effect), and a route on an egress Gateway applies at that Gateway only
            return;
        }

        var seen = new HashSet<ObjectKey>();
        foreach (var route in view.GatewayApiRoutesWithServiceEntryParent(entry.Namespace, entry.Name))
        {
            if (seen.Add(route.Key))
            {
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedGatewayApiRoute, entry, "metadata.name",
                    $"parentRef of {route.Display}, which routes it; drop that route to get egress routing", route.Ref));
            }
        }

        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            foreach (var match in view.GatewayApiRoutes(HostName.Resolve(spec.Hosts[i], entry.Namespace)))
            {
                if (seen.Add(match.Item.Key))
                {
                    notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedGatewayApiRoute, entry, $"spec.hosts[{i}]",
                        $"host {spec.Hosts[i]} is routed by {match.Item.Display}; drop that route to get egress routing", match.Item.Ref));
                }
            }
        }
    }

    /// <summary>EGW411: no routing for a host and port an EgressPolicy that selects the entry's namespace forbids (what
    /// EGW301 refuses), nor through another gateway than the policy's <c>requiredGateway</c>, nor other than through its
    /// <c>requiredWaypoint</c> (ambient namespaces only: sidecar-mode routing never reaches a waypoint). Deny and Warn policies
    /// only: an Audit policy changes nothing users see, the generator included.</summary>
    public static void CheckPolicies(ServiceEntry entry, GatewayServiceRef gateway, SnapshotView view, List<Finding> notices)
    {
        var policies = PolicySet.Of(view);
        if (policies.IsEmpty)
        {
            return;
        }

        foreach (var policy in policies.Selecting(entry.Namespace).Where(p => !PolicySet.IsAudit(p)))
        {
            var forbidden = OpenedHosts.Of(entry)
                .FirstOrDefault(h => !PolicySet.Allows(policy, h.Host, h.Port, h.Protocol));
            if (forbidden is not null)
            {
                var what = forbidden.Protocol is { } protocol ? $"{forbidden.HostPort}/{protocol.ToUpperInvariant()}" : forbidden.HostPort;
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedPolicyForbids, entry, forbidden.Path,
                    $"{what} not allowed (allows {PolicySet.DescribeAllowed(policy)}), no routing; remove it or extend EgressPolicy {policy.Name}",
                    policy.Ref));
            }

            if (PolicySet.SplitRef(policy.Spec.RequiredGateway) is { } required &&
                (required.Namespace != gateway.Namespace || required.Name != gateway.Name))
            {
                notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedPolicyForbids, entry, "metadata.annotations",
                    $"gateway {gateway} is not the required one; use {required.Namespace}/{required.Name} (EgressPolicy {policy.Name})", policy.Ref));
            }

            if (policy.Spec.RequiredWaypoint is { } waypoint)
            {
                var ambient = WaypointRouting.Applies(entry, view);
                if (!ambient || waypoint.Namespace != gateway.Namespace || waypoint.Name != gateway.Name)
                {
                    notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedPolicyForbids, entry, "metadata.annotations", ambient
                        ? $"waypoint {gateway} is not the required one; use {waypoint} (EgressPolicy {policy.Name})"
                        : $"sidecar-mode routing via {gateway} is not required waypoint {waypoint}; run the namespace ambient (EgressPolicy {policy.Name})",
                        policy.Ref));
                }
            }
        }
    }

    /// <summary>EGW409: what the checks would refuse because of where the generated legs run (the catalogue's "What a
    /// gateway sees"), through the same look-ups the rules use (<see cref="ServiceRegistry.ResolveDestination"/>,
    /// <see cref="RuleContext.IsExported"/>, <see cref="RuleContext.GatewayNamespace"/>): the mesh leg runs in the
    /// sidecars of the entry's namespace, so their Sidecar scope must let them reach the gateway Service (EGW101); the
    /// gateway legs run in the gateway workload's namespace, which must see the entry (EGW101 from there) and the legs
    /// themselves (EGW104, through the mesh's <c>defaultVirtualServiceExportTo</c>: generated legs set no exportTo).</summary>
    public static List<Finding> Visibility(ServiceEntry entry, GatewayServiceRef gateway, Service service, SnapshotView view)
    {
        var result = new List<Finding>();
        var context = new RuleContext(view, RuleSettings.Default);
        var mesh = new LegScope(entry.Namespace, true, context.OutboundPolicyFor(entry.Namespace));
        var toGateway = context.ResolveDestination(gateway.Host, mesh);
        if (toGateway.Services.Count == 0)
        {
            var sidecar = context.ScopingSidecar(entry.Namespace);
            result.Add(sidecar is not null && !context.SidecarAllows(entry.Namespace, service.Namespace, gateway.Host)
                ? RoutingNotice.Warning(RuleIds.RoutingSkippedNotVisible, entry, "metadata.namespace",
                    $"Sidecar {sidecar.Namespace}/{sidecar.Name} hides the gateway; add \"{gateway.Namespace}/*\" to egress hosts",
                    sidecar.Ref, service.Ref)
                : RoutingNotice.Warning(RuleIds.RoutingSkippedNotVisible, entry, "metadata.namespace",
                    $"gateway Service {gateway} is not exported to {entry.Namespace}; set its networking.istio.io/exportTo to include it",
                    service.Ref));
        }

        // the Gateway to be generated selects the gateway Service's pods: its workload runs where the checks will look
        var planned = new Gateway { Metadata = new ObjectMeta { Name = RoutingPlanner.Names.Gateway(entry), Namespace = entry.Namespace }, Spec = new GatewaySpec { Selector = service.Spec.Selector } };
        var g = context.GatewayNamespace(planned);
        var gatewayScope = new LegScope(g, false, context.MeshOutboundPolicy, planned);
        for (var i = 0; i < entry.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(entry.Spec.Hosts[i], entry.Namespace);
            if (context.IsExported(entry, g) || context.ResolveDestination(host, gatewayScope).Refs.Any(r => r != entry.Ref))
            {
                continue;
            }

            result.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedNotVisible, entry, "spec.exportTo",
                $"hidden from the egress gateway in {g}; add {g} to exportTo"));
            break;
        }

        var leg = new VirtualService { Metadata = new ObjectMeta { Name = RoutingPlanner.Names.TlsLeg(entry), Namespace = entry.Namespace } };
        if (!context.IsExportedTo(leg, g))
        {
            result.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedNotVisible, entry, "metadata.namespace",
                $"mesh defaultVirtualServiceExportTo hides VirtualServices of {entry.Namespace} from {g}, where the gateway runs; widen it"));
        }

        return result;
    }
}
