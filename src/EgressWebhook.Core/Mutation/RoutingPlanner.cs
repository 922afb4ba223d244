using System.Net;
using System.Text.RegularExpressions;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>Plans the egress-gateway routing of one ServiceEntry: Gateway, mesh → gateway and gateway → external
/// VirtualService legs, and the DestinationRule for the gateway Service. Pure: it reads the view, never changes it.</summary>
/// <remarks>The chain is the one of Istio's egress-gateway tasks, built so that every link agrees by construction:
/// TLS/HTTPS ports get a <c>TLS</c> server in <c>PASSTHROUGH</c> and <c>tls</c> legs matching <c>sniHosts</c>; HTTP
/// ports get an <c>HTTP</c> server and <c>http</c> legs. Server ports and mesh-leg destination ports are the gateway
/// Service's <c>port</c> (never its <c>targetPort</c>), so the mesh leg, the server and the gateway leg meet on the same
/// number (EGW105). An existing route for the host is never duplicated: the entry is left out with EGW405.
/// The steps, in order, each in its own type: <see cref="RoutingEligibility"/> (the entry, EgressPolicies), the ambient
/// branch (<see cref="WaypointRouting"/>), <see cref="RoutingPorts"/>, <see cref="RoutingConflicts"/>, visibility from
/// where the legs run (<see cref="RoutingEligibility.Visibility"/>), <see cref="RoutingObjectBuilder"/>, and last a
/// planned name taken by another object (<see cref="RoutingConflicts.TakenName"/>). The first step with a notice ends the plan.</remarks>
internal static partial class RoutingPlanner
{
    /// <summary>apiVersion of every generated object.</summary>
    public const string ApiVersion = "networking.istio.io/v1";

    /// <summary>Plans the routing for <paramref name="entry"/> through <paramref name="gateway"/>, or says why it is left out.</summary>
    public static RoutingPlan Plan(ServiceEntry entry, GatewayServiceRef gateway, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        var notices = new List<Finding>();
        RoutingEligibility.CheckEntry(entry, view, notices);
        RoutingEligibility.CheckPolicies(entry, gateway, view, notices);
        if (WaypointRouting.Applies(entry, view))
        {
            // ambient: the entry's waypoint label is the routing; ztunnel would never use sidecar-mode legs
            notices.AddRange(WaypointRouting.Check(entry, gateway, view));
            return notices.Count > 0 ? new RoutingPlan(entry, [], notices) : new RoutingPlan(entry, [], notices, gateway);
        }

        var service = view.Find(new ObjectKey(ResourceKind.Service, gateway.Namespace, gateway.Name)) as Service;
        if (service is null)
        {
            notices.Add(RoutingNotice.Warning(RuleIds.RoutingSkippedNoGateway, entry, "metadata.annotations",
                $"gateway Service {gateway} not found; create it or fix annotation {RoutingAnnotations.Gateway}"));
        }

        if (notices.Count > 0 || service is null)
        {
            return new RoutingPlan(entry, [], notices);
        }

        var ports = RoutingPorts.Plan(entry, gateway, service, notices);
        if (ports.Count == 0)
        {
            return new RoutingPlan(entry, [], notices);
        }

        var conflicts = RoutingConflicts.ExistingRoutes(entry, service, ports, view);
        if (conflicts.Count > 0)
        {
            notices.AddRange(conflicts);
            return new RoutingPlan(entry, [], notices);
        }

        // the checks judge the legs from where they run: refuse here what they would refuse there
        var hidden = RoutingEligibility.Visibility(entry, gateway, service, view);
        if (hidden.Count > 0)
        {
            notices.AddRange(hidden);
            return new RoutingPlan(entry, [], notices);
        }

        var objects = RoutingObjectBuilder.Build(entry, gateway, service, ports);
        if (RoutingConflicts.TakenName(entry, objects, view) is { } taken)
        {
            notices.Add(taken);
            return new RoutingPlan(entry, [], notices);
        }

        return new RoutingPlan(entry, objects, notices);
    }

    /// <summary>Whether a ServiceEntry host is a DNS name the gateway can resolve: an RFC 1123 name, not a wildcard, not an IP.</summary>
    public static bool IsDnsName(string host) =>
        host.Length is > 0 and <= 253 && !HostName.IsWildcard(host) && !IPAddress.TryParse(host, out _) && DnsName().IsMatch(host);

    /// <summary>The names of the objects planned for an entry (deterministic; used to recognise them again).</summary>
    public static class Names
    {
        public static string Gateway(ServiceEntry entry) => $"{entry.Name}-egress";

        /// <summary>The Gateway of the HTTP servers when the entry also has TLS ports (else they are in <see cref="Gateway"/>).</summary>
        public static string HttpGateway(ServiceEntry entry) => $"{entry.Name}-egress-http";

        public static string MeshLeg(ServiceEntry entry) => $"{entry.Name}-egress-mesh";

        public static string TlsLeg(ServiceEntry entry) => $"{entry.Name}-egress-tls";

        public static string HttpLeg(ServiceEntry entry, int hostIndex) =>
            entry.Spec.Hosts.Count > 1 ? $"{entry.Name}-egress-http-{hostIndex}" : $"{entry.Name}-egress-http";

        public static string GatewayRule(ServiceEntry entry) => $"{entry.Name}-egress";

        public static string Origination(ServiceEntry entry, int hostIndex) =>
            entry.Spec.Hosts.Count > 1 ? $"{entry.Name}-egress-origination-{hostIndex}" : $"{entry.Name}-egress-origination";
    }

    /// <summary>Whether <paramref name="obj"/> was generated for <paramref name="entry"/> (so it is no conflict).</summary>
    public static bool IsGeneratedFor(EgressObject obj, ServiceEntry entry)
    {
        if (obj.Namespace != entry.Namespace || !RuleContext.IsGenerated(obj))
        {
            return false;
        }

        if (obj.Metadata.OwnerReferences.Any(o => o.Kind == "ServiceEntry" && o.Name == entry.Name &&
                                                  (string.IsNullOrEmpty(o.Uid) || string.IsNullOrEmpty(entry.Metadata.Uid) || o.Uid == entry.Metadata.Uid)))
        {
            return true;
        }

        // rendered objects (GitOps) carry no owner reference: recognise them by their deterministic names
        var names = new HashSet<string>(StringComparer.Ordinal) { Names.Gateway(entry), Names.HttpGateway(entry), Names.MeshLeg(entry), Names.TlsLeg(entry) };
        for (var i = 0; i < entry.Spec.Hosts.Count; i++)
        {
            names.Add(Names.HttpLeg(entry, i));
            names.Add(Names.Origination(entry, i));
        }

        return names.Contains(obj.Name);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.IgnoreCase)]
    private static partial Regex DnsName();
}
