using System.Globalization;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules;

/// <summary>Where a VirtualService leg runs, for registry look-ups: whose view of the registry it has and
/// which outbound mode applies to what it cannot find.</summary>
/// <param name="ClientNamespace">The VirtualService's namespace (the catalogue's client namespace).</param>
/// <param name="SidecarScoped">The leg runs in sidecars (bound to <c>mesh</c>), so the namespace's Sidecar
/// egress hosts limit what it reaches; a Gateway-only leg runs in a gateway workload, which no Sidecar scopes.</param>
/// <param name="OutboundPolicy">The client namespace's effective mode for sidecar legs, the mesh's for gateway legs.</param>
/// <param name="Gateway">For a gateway leg, the Gateway whose workload it runs in (<see cref="ClientNamespace"/> is that
/// workload's namespace, <see cref="RuleContext.GatewayNamespace"/>); null for a sidecar leg.</param>
internal readonly record struct LegScope(string ClientNamespace, bool SidecarScoped, string OutboundPolicy, Gateway? Gateway = null)
{

    public bool IsRegistryOnly => OutboundPolicy == OutboundPolicies.RegistryOnly;

    /// <summary>Error under REGISTRY_ONLY (BlackHoleCluster), else warning (PassthroughCluster).</summary>
    public Severity ErrorIfRegistryOnly => IsRegistryOnly ? Severity.Error : Severity.Warning;

    /// <summary>Where unregistered traffic of this leg goes: <c>BlackHoleCluster</c> or <c>PassthroughCluster</c>.</summary>
    public string FallbackCluster => IsRegistryOnly ? "BlackHoleCluster" : "PassthroughCluster";
}

/// <summary>What a destination host resolves to in the registry, as one client sees it (Istio's destination-host
/// look-up: a ServiceEntry host equal to the destination, else a visible wildcard <c>*.s</c> covering it
/// (<see cref="HostName.SubsetOf"/>); a Kubernetes Service by its FQDN).</summary>
internal sealed class RegistryTargets
{
    internal RegistryTargets(IReadOnlyList<ServiceEntry> serviceEntries, IReadOnlyList<Service> services,
        IReadOnlyList<ServiceEntry> hiddenByExportTo, IReadOnlyList<ServiceEntry> hiddenBySidecar, IReadOnlyList<Service> hiddenServices)
    {
        ServiceEntries = serviceEntries;
        Services = services;
        HiddenByExportTo = hiddenByExportTo;
        HiddenBySidecar = hiddenBySidecar;
        HiddenServices = hiddenServices;
    }

    /// <summary>Visible ServiceEntries, the most specific first: those declaring the host exactly, else the wildcards covering it.</summary>
    public IReadOnlyList<ServiceEntry> ServiceEntries { get; }

    /// <summary>Visible Kubernetes Services whose FQDN is the host.</summary>
    public IReadOnlyList<Service> Services { get; }

    /// <summary>ServiceEntries that declare the host but whose <c>exportTo</c> hides them from the client.</summary>
    public IReadOnlyList<ServiceEntry> HiddenByExportTo { get; }

    /// <summary>ServiceEntries exported to the client but outside its Sidecar's egress hosts.</summary>
    public IReadOnlyList<ServiceEntry> HiddenBySidecar { get; }

    /// <summary>Services with the host that the client cannot see (exportTo annotation or Sidecar).</summary>
    public IReadOnlyList<Service> HiddenServices { get; }

    /// <summary>Whether the host is registered for the client.</summary>
    public bool Found => ServiceEntries.Count > 0 || Services.Count > 0;

    /// <summary>The visible targets as references.</summary>
    public IEnumerable<ObjectRef> Refs => ServiceEntries.Select(s => s.Ref).Concat(Services.Select(s => s.Ref));

    /// <summary>Port numbers of the visible targets: ServiceEntry <c>ports[].number</c>, Service <c>ports[].port</c>
    /// (never a targetPort: routes address the service port).</summary>
    public SortedSet<int> PortNumbers()
    {
        var set = new SortedSet<int>();
        foreach (var se in ServiceEntries)
        {
            foreach (var p in se.Spec.Ports)
            {
                if (p.Number > 0)
                {
                    set.Add(p.Number);
                }
            }
        }

        foreach (var svc in Services)
        {
            foreach (var p in svc.Spec.Ports)
            {
                if (p.Port > 0)
                {
                    set.Add(p.Port);
                }
            }
        }

        return set;
    }

    /// <summary>Whether <paramref name="number"/> is one of <see cref="PortNumbers"/>, without building the set.</summary>
    public bool HasPort(int number)
    {
        if (number <= 0)
        {
            return false;
        }

        for (var i = 0; i < ServiceEntries.Count; i++)
        {
            var ports = ServiceEntries[i].Spec.Ports;
            for (var j = 0; j < ports.Count; j++)
            {
                if (ports[j].Number == number)
                {
                    return true;
                }
            }
        }

        for (var i = 0; i < Services.Count; i++)
        {
            var ports = Services[i].Spec.Ports;
            for (var j = 0; j < ports.Count; j++)
            {
                if (ports[j].Port == number)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>How many <see cref="PortNumbers"/> there are, counted up to two (none, one or several is what a check
    /// asks), without building the set.</summary>
    public int PortCountUpToTwo()
    {
        var first = 0;
        for (var i = 0; i < ServiceEntries.Count; i++)
        {
            var ports = ServiceEntries[i].Spec.Ports;
            for (var j = 0; j < ports.Count; j++)
            {
                if (Count(ports[j].Number))
                {
                    return 2;
                }
            }
        }

        for (var i = 0; i < Services.Count; i++)
        {
            var ports = Services[i].Spec.Ports;
            for (var j = 0; j < ports.Count; j++)
            {
                if (Count(ports[j].Port))
                {
                    return 2;
                }
            }
        }

        return first > 0 ? 1 : 0;

        // notes a port; whether it is a second one
        bool Count(int number)
        {
            if (number <= 0)
            {
                return false;
            }

            if (first == 0)
            {
                first = number;
            }

            return number != first;
        }
    }

    /// <summary>The visible targets' ports for a message, e.g. <c>443/TLS, 80/HTTP</c>.</summary>
    public string DescribePorts()
    {
        var seen = new SortedDictionary<int, string>();
        foreach (var se in ServiceEntries)
        {
            foreach (var p in se.Spec.Ports)
            {
                seen.TryAdd(p.Number, string.IsNullOrEmpty(p.Protocol) ? p.Number.ToString(CultureInfo.InvariantCulture) : $"{p.Number}/{p.Protocol}");
            }
        }

        foreach (var svc in Services)
        {
            foreach (var p in svc.Spec.Ports)
            {
                seen.TryAdd(p.Port, p.Port.ToString(CultureInfo.InvariantCulture));
            }
        }

        return seen.Count == 0 ? "none" : string.Join(", ", seen.Values);
    }

    /// <summary>The first visible target and how many more, e.g. <c>ServiceEntry default/cnn</c>.</summary>
    public string DescribeTargets()
    {
        var refs = Refs.ToList();
        return refs.Count switch
        {
            0 => "nothing",
            1 => refs[0].ToString(),
            _ => $"{refs[0]} (+{refs.Count - 1})",
        };
    }
}

/// <summary>Service-registry look-ups shared by the cross-resource rules: the scope a VirtualService leg runs in, what a
/// destination host resolves to, and whether a Gateway is an egress gateway.</summary>
internal static class ServiceRegistry
{
    /// <summary>The label Istio's egress gateway workload and Service carry (<c>istio: egressgateway</c>).</summary>
    public const string EgressGatewayLabel = "istio";

    /// <summary>Value of <see cref="EgressGatewayLabel"/> on the egress gateway.</summary>
    public const string EgressGatewayLabelValue = "egressgateway";

    /// <summary>The scope of a leg of <paramref name="vs"/> that applies to <paramref name="gateways"/> (resolved): the
    /// first of <see cref="ScopesOf"/> (not cached: for lists made by the caller). The references must include <c>mesh</c>
    /// or an existing Gateway.</summary>
    public static LegScope ScopeOf(this RuleContext context, VirtualService vs, IReadOnlyList<string> gateways)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(vs);
        ArgumentNullException.ThrowIfNull(gateways);
        return ComputeScopes(context, vs.Namespace, gateways)[0];
    }

    /// <summary>Every place a leg of <paramref name="vs"/> that applies to <paramref name="gateways"/> (resolved) runs: the
    /// sidecars of the VirtualService's namespace (their Sidecar scope and outbound mode) when <c>mesh</c> is among them;
    /// and for each existing Gateway, its workload's namespace (<see cref="RuleContext.GatewayNamespace"/>: exportTo
    /// only, the mesh-wide mode), once per namespace. A leg bound only to Gateways none of which exists runs nowhere yet:
    /// none (EGW104 (a) reports the missing Gateway; judging it from the VirtualService's namespace would guess where its
    /// workload runs and report visibility that the gateway's namespace may well have). Computed once per gateway list
    /// for the life of the context (the lists are shared by the destinations of a VirtualService).</summary>
    public static IReadOnlyList<LegScope> ScopesOf(this RuleContext context, VirtualService vs, IReadOnlyList<string> gateways)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(vs);
        ArgumentNullException.ThrowIfNull(gateways);
        if (!context.TryGetCachedScopes(vs.Namespace, gateways, out var scopes))
        {
            scopes = ComputeScopes(context, vs.Namespace, gateways);
            context.CacheScopes(vs.Namespace, gateways, scopes);
        }

        return scopes;
    }

    /// <summary>The scope of a leg that runs in <paramref name="gateway"/>'s workload: its namespace
    /// (<see cref="RuleContext.GatewayNamespace"/>), exportTo only, the mesh-wide mode.</summary>
    public static LegScope GatewayScope(this RuleContext context, Gateway gateway)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new LegScope(context.GatewayNamespace(gateway), false, context.MeshOutboundPolicy, gateway);
    }

    private static List<LegScope> ComputeScopes(RuleContext context, string vsNamespace, IReadOnlyList<string> gateways)
    {
        var result = new List<LegScope>(1);
        HashSet<string>? gatewayNamespaces = null;
        for (var i = 0; i < gateways.Count; i++)
        {
            var g = gateways[i];
            if (g == GatewayRefs.Mesh)
            {
                if (!result.Exists(s => s.SidecarScoped))
                {
                    result.Insert(0, new LegScope(vsNamespace, true, context.OutboundPolicyFor(vsNamespace)));
                }
            }
            else if (context.View.Gateway(g) is { } gw)
            {
                // a set of the namespaces only for a long list: a short one is scanned
                var ns = context.GatewayNamespace(gw);
                if (gateways.Count > 8 ? (gatewayNamespaces ??= new HashSet<string>(StringComparer.Ordinal)).Add(ns) : !HasGatewayScopeIn(result, ns))
                {
                    result.Add(GatewayScope(context, gw));
                }
            }
        }

        return result;
    }

    private static bool HasGatewayScopeIn(List<LegScope> scopes, string ns)
    {
        foreach (var s in scopes)
        {
            if (!s.SidecarScoped && s.ClientNamespace == ns)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Resolves a destination host (already resolved against the VirtualService's namespace) to the
    /// ServiceEntries and Services <paramref name="scope"/> can see, keeping the ones that declare it but are hidden
    /// (for messages).</summary>
    public static RegistryTargets ResolveDestination(this RuleContext context, string host, LegScope scope)
    {
        ArgumentNullException.ThrowIfNull(context);

        // EGW101, EGW102 and EGW115 resolve the same destinations from the same places: once per context (the view does
        // not change under it, and only the client namespace and the Sidecar scoping decide the answer)
        if (!context.TryGetCachedTargets(host, scope.ClientNamespace, scope.SidecarScoped, out var targets))
        {
            targets = Resolve(context, host, scope);
            context.CacheTargets(host, scope.ClientNamespace, scope.SidecarScoped, targets);
        }

        return targets;
    }

    private static RegistryTargets Resolve(RuleContext context, string host, LegScope scope)
    {
        // one look-up per registry, partitioned in place: this runs for every destination of every checked leg; each list
        // is made for its first item (most stay empty)
        var entries = Covering(context.View.ServiceEntries(host), host);
        List<ServiceEntry>? exact = null, covering = null, hiddenByExportTo = null, hiddenBySidecar = null;
        foreach (var m in entries)
        {
            if (!context.IsExported(m.Item, scope.ClientNamespace))
            {
                continue;
            }

            if (!scope.SidecarScoped || context.SidecarAllows(scope.ClientNamespace, m.Item.Namespace, m.Host))
            {
                AddOnce(ref covering, m.Item);
                if (m.Host == host)
                {
                    // Istio's look-up takes an entry declaring the host exactly before any wildcard covering it
                    AddOnce(ref exact, m.Item);
                }
            }
        }

        foreach (var m in entries)
        {
            // a hidden catch-all "*" entry explains nothing about this host: leave it out of the reasons
            if (m.Host == "*" || (covering is not null && covering.Contains(m.Item)))
            {
                continue;
            }

            if (context.IsExported(m.Item, scope.ClientNamespace))
            {
                AddOnce(ref hiddenBySidecar, m.Item);
            }
            else
            {
                AddOnce(ref hiddenByExportTo, m.Item);
            }
        }

        List<Service>? services = null, hiddenServices = null;
        foreach (var m in context.View.Services(host))
        {
            if (m.Host != host)
            {
                continue;
            }

            var visible = ExportTo.IsVisible(ExportTo.OfService(m.Item), m.Item.Namespace, scope.ClientNamespace, context.Mesh.DefaultServiceExportTo) &&
                          (!scope.SidecarScoped || context.SidecarAllows(scope.ClientNamespace, m.Item.Namespace, m.Host));
            if (visible)
            {
                AddOnce(ref services, m.Item);
            }
            else
            {
                AddOnce(ref hiddenServices, m.Item);
            }
        }

        if (hiddenServices is not null && services is not null)
        {
            hiddenServices.RemoveAll(services.Contains);
        }

        return new RegistryTargets(
            (IReadOnlyList<ServiceEntry>?)(exact is { Count: > 0 } ? exact : covering) ?? [],
            (IReadOnlyList<Service>?)services ?? [],
            (IReadOnlyList<ServiceEntry>?)hiddenByExportTo ?? [],
            (IReadOnlyList<ServiceEntry>?)hiddenBySidecar ?? [],
            (IReadOnlyList<Service>?)hiddenServices ?? []);

        // a loop rather than Exists: its predicate would capture the item, a closure per call
        static void AddOnce<T>(ref List<T>? list, T item)
            where T : class
        {
            list ??= [];
            foreach (var x in list)
            {
                if (ReferenceEquals(x, item))
                {
                    return;
                }
            }

            list.Add(item);
        }
    }

    /// <summary>Whether any ServiceEntry or Service visible to <paramref name="scope"/> has a host that intersects
    /// <paramref name="host"/> (<see cref="HostName.Matches"/>: <c>*.wikipedia.org</c> intersects <c>www.wikipedia.org</c>).</summary>
    public static bool IntersectsRegistry(this RuleContext context, string host, LegScope scope)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.VisibleServiceEntries(host, scope.ClientNamespace, scope.SidecarScoped).Count > 0 ||
               context.VisibleServices(host, scope.ClientNamespace, scope.SidecarScoped).Count > 0;
    }

    /// <summary>Whether <paramref name="gateway"/> acts as an egress gateway (for <paramref name="vs"/>, when given).</summary>
    /// <remarks>
    /// Offline there is no pod to look at, so a Gateway counts as an egress gateway when any of these holds:
    /// <list type="number">
    /// <item>its selector carries <c>istio: egressgateway</c>, the label of the egress gateway Istio installs (every
    /// egress task of Istio's documentation selects it);</item>
    /// <item>a Service selecting its workload carries that label or has <c>egressgateway</c> in its name;</item>
    /// <item>a rule of <paramref name="vs"/> bound to it routes to a host outside the cluster
    /// (not <c>*.svc.cluster.local</c>): the gateway then sends that VirtualService's traffic out of the mesh.</item>
    /// </list>
    /// An ingress gateway whose routes stay in the cluster is none of these.
    /// </remarks>
    public static bool IsEgressGateway(this RuleContext context, Gateway gateway, VirtualService? vs)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(gateway);
        if (HasEgressLabel(gateway.Spec.Selector))
        {
            return true;
        }

        foreach (var svc in context.View.ServicesSelecting(gateway.Spec.Selector))
        {
            if (HasEgressLabel(svc.Metadata.Labels) || svc.Name.Contains(EgressGatewayLabelValue, StringComparison.Ordinal))
            {
                return true;
            }
        }

        if (vs is null)
        {
            return false;
        }

        var gwRef = $"{gateway.Namespace}/{gateway.Name}";
        return RouteDestinations.Of(vs).Any(d => d.Gateways.Contains(gwRef) && !HostName.IsClusterLocal(d.Host));
    }

    /// <summary>The existing Gateways among resolved references (<c>mesh</c> and missing ones skipped).</summary>
    public static IEnumerable<Gateway> GatewaysOf(this RuleContext context, IEnumerable<string> resolvedRefs)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var r in resolvedRefs)
        {
            if (context.View.Gateway(r) is { } gw)
            {
                yield return gw;
            }
        }
    }

    /// <summary>Whether a host string is an IP address or CIDR (not a DNS name the registry could declare).</summary>
    public static bool IsIpOrCidr(string host)
    {
        var slash = host.IndexOf('/', StringComparison.Ordinal);
        return System.Net.IPAddress.TryParse(slash < 0 ? host : host[..slash], out _);
    }

    /// <summary>VirtualServices whose destinations a registry object (ServiceEntry or Service) may resolve, for AffectedBy.</summary>
    public static IEnumerable<EgressObject> VirtualServicesRoutingToRegistryObject(EgressObject changed, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.VirtualServicesRoutingTo(changed, () =>
            [.. view.MatchingAny(view.Snapshot.VirtualServiceDestinations, changed, DistinctHostsOfRegistryObject, view.VirtualServicesRoutingTo)]);
    }

    /// <summary>VirtualServices with a host that a registry object's host matches, for AffectedBy.</summary>
    public static IEnumerable<EgressObject> VirtualServicesWithHostOfRegistryObject(EgressObject changed, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.MatchingAny(view.Snapshot.VirtualServiceHosts, changed, DistinctHostsOfRegistryObject, view.VirtualServices);
    }

    /// <summary>DestinationRules whose host a registry object's host matches, for AffectedBy.</summary>
    public static IEnumerable<EgressObject> DestinationRulesForRegistryObject(EgressObject changed, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        return view.MatchingAny(view.Snapshot.DestinationRuleHosts, changed, DistinctHostsOfRegistryObject, view.DestinationRules);
    }

    /// <summary>The ServiceEntries (the changed one included, when in the view) declaring one of the hosts of
    /// <paramref name="se"/> exactly, for AffectedBy: one lookup table (<see cref="SnapshotView.ServiceEntriesDeclaringHostsOf"/>).</summary>
    public static IEnumerable<EgressObject> ServiceEntriesDeclaringHostsOf(ServiceEntry se, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(se);
        ArgumentNullException.ThrowIfNull(view);
        var all = view.ServiceEntriesDeclaringHostsOf(se).All;
        return ReferenceEquals(view.Added, se) && se.Spec.Hosts.Count > 0 ? all.Append(se) : all;
    }

    /// <summary><see cref="HostsOfRegistryObject"/> as a collection.</summary>
    private static HashSet<string> DistinctHostsOfRegistryObject(EgressObject obj) => obj switch
    {
        ServiceEntry se => EgressSnapshot.HostsOf(se).ToHashSet(StringComparer.Ordinal),
        Service svc => new HashSet<string>(StringComparer.Ordinal) { EgressSnapshot.HostOf(svc) },
        _ => new HashSet<string>(StringComparer.Ordinal),
    };

    /// <summary>The registry hosts a ServiceEntry or Service declares, each once (an entry may repeat a host thousands
    /// of times, and each is an index query); none for other kinds.</summary>
    public static IEnumerable<string> HostsOfRegistryObject(EgressObject obj) => obj switch
    {
        ServiceEntry se => EgressSnapshot.HostsOf(se).Distinct(StringComparer.Ordinal),
        Service svc => [EgressSnapshot.HostOf(svc)],
        _ => [],
    };

    /// <summary>The field path of a destination's host, e.g. <c>spec.http[0].route[0].destination.host</c>.</summary>
    public static string HostPath(DestinationRef destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.Path + ".host";
    }

    private static List<HostMatch<ServiceEntry>> Covering(List<HostMatch<ServiceEntry>> matches, string host)
    {
        // in place, without a predicate capturing the host
        var kept = 0;
        for (var i = 0; i < matches.Count; i++)
        {
            if (HostName.SubsetOf(host, matches[i].Host))
            {
                matches[kept++] = matches[i];
            }
        }

        matches.RemoveRange(kept, matches.Count - kept);
        return matches;
    }

    private static bool HasEgressLabel(IReadOnlyDictionary<string, string> labels) =>
        labels.TryGetValue(EgressGatewayLabel, out var v) && v == EgressGatewayLabelValue;
}
