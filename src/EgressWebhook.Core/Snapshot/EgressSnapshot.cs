using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>An immutable set of objects with the indexes the rules query. Build once per state change;
/// read from any number of threads. Use <see cref="SnapshotView"/> to query it, with or without a pending change.</summary>
public sealed class EgressSnapshot
{
    private readonly Dictionary<ObjectKey, EgressObject> _byKey;
    private readonly Dictionary<ResourceKind, List<EgressObject>> _byKind = [];
    private readonly Dictionary<string, Sidecar> _defaultSidecars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Service>> _servicesBySelectorLabel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Gateway>> _gatewaysBySelectorLabel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<VirtualService>> _vsByGateway = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<GatewayApiRoute>> _routesByServiceEntryParent = new(StringComparer.Ordinal);

    // namespaces that hold objects or are Namespace objects (the clients a mesh VirtualService may have), and the TCP
    // ports of ServiceEntries without addresses (each claims 0.0.0.0:port): both filled in the one pass below
    private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<int, List<ServiceEntry>> _addresslessTcpByPort = [];

    internal HostIndex<ServiceEntry> ServiceEntryHosts { get; } = new();

    internal HostIndex<Service> ServiceHosts { get; } = new();

    internal HostIndex<VirtualService> VirtualServiceHosts { get; } = new();

    internal HostIndex<VirtualService> VirtualServiceDestinations { get; } = new();

    internal HostIndex<DestinationRule> DestinationRuleHosts { get; } = new();

    // DestinationRules per namespace as well: every team may define one for the shared egress gateway's host, and
    // the lookup path asks for the ones of a namespace
    private readonly Dictionary<string, HostIndex<DestinationRule>> _destinationRuleHostsByNamespace = new(StringComparer.Ordinal);

    // Gateways by the DNS part of their server hosts: many teams' Gateways share one egress gateway workload, so
    // "which Gateway serves this host" must not walk every Gateway of that workload
    internal HostIndex<Gateway> GatewayServerHosts { get; } = new();

    /// <summary>Gateway API routes under their <c>hostnames</c> and Istio <c>Hostname</c> backends.</summary>
    internal HostIndex<GatewayApiRoute> GatewayApiRouteHosts { get; } = new();

    public static EgressSnapshot Empty { get; } = Create([]);

    /// <summary>Mesh config of the snapshot (Istio's defaults when none was given).</summary>
    public MeshConfig Mesh { get; }

    /// <summary>Number of objects.</summary>
    public int Count => _byKey.Count;

    /// <summary>Every object, in no particular order.</summary>
    public IEnumerable<EgressObject> Objects => _byKey.Values;

    private EgressSnapshot(Dictionary<ObjectKey, EgressObject> byKey)
    {
        _byKey = byKey;
        MeshConfig? mesh = null;
        foreach (var obj in byKey.Values)
        {
            if (!_byKind.TryGetValue(obj.ResourceKind, out var list))
            {
                _byKind[obj.ResourceKind] = list = [];
            }

            list.Add(obj);
            _namespaces.Add(obj is Namespace ? obj.Name : obj.Namespace);
            switch (obj)
            {
                // each host once per object: an object may list one host thousands of times, and every query of it
                // would return each copy
                case ServiceEntry se:
                    foreach (var h in HostsOf(se).Distinct(StringComparer.Ordinal))
                    {
                        ServiceEntryHosts.Add(h, se);
                    }

                    foreach (var port in AddresslessTcpPorts(se))
                    {
                        if (!_addresslessTcpByPort.TryGetValue(port, out var onPort))
                        {
                            _addresslessTcpByPort[port] = onPort = [];
                        }

                        onPort.Add(se);
                    }

                    break;
                case Service svc:
                    ServiceHosts.Add(HostOf(svc), svc);
                    foreach (var (k, v) in svc.Spec.Selector)
                    {
                        Append(_servicesBySelectorLabel, Label(k, v), svc);
                    }

                    break;
                case Gateway gw:
                    foreach (var (k, v) in gw.Spec.Selector)
                    {
                        Append(_gatewaysBySelectorLabel, Label(k, v), gw);
                    }

                    foreach (var h in ServerHostsOf(gw))
                    {
                        GatewayServerHosts.Add(h, gw);
                    }

                    break;
                case VirtualService vs:
                    foreach (var h in HostsOf(vs).Distinct(StringComparer.Ordinal))
                    {
                        VirtualServiceHosts.Add(h, vs);
                    }

                    foreach (var g in BoundGateways(vs))
                    {
                        Append(_vsByGateway, g, vs);
                    }

                    foreach (var h in DestinationHostsOf(vs))
                    {
                        VirtualServiceDestinations.Add(h, vs);
                    }

                    break;
                case DestinationRule dr:
                    DestinationRuleHosts.Add(HostOf(dr), dr);
                    if (!_destinationRuleHostsByNamespace.TryGetValue(dr.Namespace, out var index))
                    {
                        _destinationRuleHostsByNamespace[dr.Namespace] = index = new HostIndex<DestinationRule>();
                    }

                    index.Add(HostOf(dr), dr);
                    break;
                case GatewayApiRoute route:
                    foreach (var h in HostsOf(route))
                    {
                        GatewayApiRouteHosts.Add(h, route);
                    }

                    foreach (var parent in ServiceEntryParentsOf(route))
                    {
                        Append(_routesByServiceEntryParent, parent, route);
                    }

                    break;
                case Sidecar sc when sc.Spec.WorkloadSelector is null or { Labels.Count: 0 }:
                    _defaultSidecars.TryAdd(sc.Namespace, sc);
                    break;
                case MeshConfig m:
                    // the unrevisioned config wins over revisioned ones
                    if (mesh is null || m.Name == "istio" || m.Name.Length == 0)
                    {
                        mesh = m;
                    }

                    break;
            }
        }

        _namespaces.Remove("");
        Mesh = (mesh ?? MeshConfig.Default).Effective;
        ConfiguredMesh = mesh;
    }

    /// <summary>The mesh config object of the snapshot as given (possibly one Istio rejects), if any.</summary>
    public MeshConfig? ConfiguredMesh { get; }

    /// <summary>Namespaces that hold an object of the snapshot or are a Namespace object of it.</summary>
    internal IReadOnlyCollection<string> Namespaces => _namespaces;

    internal IReadOnlyList<ServiceEntry> AddresslessTcpServiceEntriesOn(int port) =>
        _addresslessTcpByPort.TryGetValue(port, out var list) ? list : [];

    /// <summary>The distinct port numbers of <paramref name="se"/> whose protocol routes by neither Host nor SNI (TCP, unset,
    /// MONGO, MYSQL, REDIS, …: not HTTP-family, not TLS-family), when it has no address (<c>spec.addresses</c> or allocated
    /// <c>status.addresses</c>): each is a <c>0.0.0.0:port</c> listener that takes every connection on the port.</summary>
    public static IEnumerable<int> AddresslessTcpPorts(ServiceEntry se)
    {
        if (se.Spec.Addresses.Count > 0 || se.Status.Addresses.Count > 0)
        {
            return [];
        }

        return se.Spec.Ports.Where(p => p is not null && p.Number > 0 && !Protocols.IsHttp(p.Protocol) && !Protocols.IsTls(p.Protocol))
            .Select(p => p.Number).Distinct();
    }

    /// <summary>Builds a snapshot. A later object with the same kind, namespace and name replaces an earlier one.</summary>
    public static EgressSnapshot Create(IEnumerable<EgressObject> objects)
    {
        var byKey = new Dictionary<ObjectKey, EgressObject>();
        foreach (var obj in objects)
        {
            byKey[obj.Key] = obj;
        }

        return new EgressSnapshot(byKey);
    }

    public EgressObject? Find(ObjectKey key) => _byKey.GetValueOrDefault(key);

    internal IReadOnlyList<EgressObject> OfKind(ResourceKind kind) => _byKind.TryGetValue(kind, out var list) ? list : [];

    internal Sidecar? DefaultSidecar(string ns) => _defaultSidecars.GetValueOrDefault(ns);

    internal IReadOnlyList<Service> ServicesWithSelectorLabel(string key, string value) =>
        _servicesBySelectorLabel.TryGetValue(Label(key, value), out var list) ? list : [];

    internal IReadOnlyList<Gateway> GatewaysWithSelectorLabel(string key, string value) =>
        _gatewaysBySelectorLabel.TryGetValue(Label(key, value), out var list) ? list : [];

    internal HostIndex<DestinationRule>? DestinationRuleHostsIn(string ns) => _destinationRuleHostsByNamespace.GetValueOrDefault(ns);

    internal IReadOnlyList<VirtualService> VirtualServicesBoundTo(string gatewayRef) =>
        _vsByGateway.TryGetValue(gatewayRef, out var list) ? list : [];

    /// <summary>A ServiceEntry's hosts, resolved in its namespace.</summary>
    public static IEnumerable<string> HostsOf(ServiceEntry se) => se.Spec.Hosts.Select(h => HostName.Resolve(h, se.Namespace));

    /// <summary>A VirtualService's hosts, resolved in its namespace.</summary>
    public static IEnumerable<string> HostsOf(VirtualService vs) => vs.Spec.Hosts.Select(h => HostName.Resolve(h, vs.Namespace));

    /// <summary>The DNS names of a Gateway's server hosts (<c>ns/</c> prefixes dropped), each once.</summary>
    public static IEnumerable<string> ServerHostsOf(Gateway gateway) =>
        gateway.Spec.Servers.SelectMany(s => s.Hosts).Select(h => NamespacedHost.DnsName(h)).Distinct(StringComparer.Ordinal);

    /// <summary>A Service's registry name <c>name.ns.svc.cluster.local</c>.</summary>
    public static string HostOf(Service svc) => $"{svc.Name}.{svc.Namespace}.{HostName.ClusterDomain}";

    /// <summary>Whether <paramref name="host"/> is <see cref="HostOf(Service)"/> of <paramref name="svc"/>, without building it.</summary>
    public static bool IsHostOf(string host, Service svc)
    {
        var name = svc.Name;
        var ns = svc.Namespace;
        if (host.Length != name.Length + ns.Length + HostName.ClusterDomain.Length + 2)
        {
            return false;
        }

        var span = host.AsSpan();
        return span.StartsWith(name, StringComparison.Ordinal) && span[name.Length] == '.' &&
               span.Slice(name.Length + 1, ns.Length).SequenceEqual(ns) && span[name.Length + 1 + ns.Length] == '.' &&
               span.EndsWith(HostName.ClusterDomain, StringComparison.Ordinal);
    }

    /// <summary>A DestinationRule's host, resolved in its namespace.</summary>
    public static string HostOf(DestinationRule dr) => HostName.Resolve(dr.Spec.Host, dr.Namespace);

    /// <summary>Distinct resolved destination hosts of a VirtualService.</summary>
    public static IEnumerable<string> DestinationHostsOf(VirtualService vs) => RouteDestinations.Of(vs).Select(d => d.Host).Distinct(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="vs"/> names <paramref name="gatewayRef"/> (resolved) at spec or match level,
    /// <see cref="BoundGateways"/> without resolving every reference into a new string.</summary>
    public static bool IsBoundTo(VirtualService vs, string gatewayRef)
    {
        // plain loops: this runs for every candidate leg of a gateway-chain check
        if (vs.Spec.Gateways.Count == 0 ? gatewayRef == GatewayRefs.Mesh : AnyRefersTo(vs.Spec.Gateways, vs.Namespace, gatewayRef))
        {
            return true;
        }

        foreach (var list in MatchGatewayLists(vs))
        {
            if (AnyRefersTo(list, vs.Namespace, gatewayRef))
            {
                return true;
            }
        }

        return false;
    }

    private static bool AnyRefersTo(IReadOnlyList<string> references, string vsNamespace, string gatewayRef)
    {
        foreach (var g in references)
        {
            if (GatewayRefs.RefersTo(g, vsNamespace, gatewayRef))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every gateway a VirtualService or one of its rules names (resolved), plus <c>mesh</c> when it applies to sidecars.</summary>
    public static IEnumerable<string> BoundGateways(VirtualService vs) => BoundGatewayRefs(vs).ToHashSet(StringComparer.Ordinal);

    /// <summary>The resolved gateways <paramref name="vs"/> names at spec and match level, as <see cref="BoundGateways"/>
    /// but without building a set (a reference may come more than once).</summary>
    public static IEnumerable<string> BoundGatewayRefs(VirtualService vs)
    {
        foreach (var g in GatewayRefs.Of(vs))
        {
            yield return g;
        }

        foreach (var list in MatchGatewayLists(vs))
        {
            foreach (var g in list)
            {
                yield return GatewayRefs.Resolve(g, vs.Namespace);
            }
        }
    }

    /// <summary>The <c>gateways</c> lists of the http, tls and tcp matches of <paramref name="vs"/>, as written.</summary>
    private static IEnumerable<IReadOnlyList<string>> MatchGatewayLists(VirtualService vs)
    {
        foreach (var r in vs.Spec.Http)
        {
            foreach (var m in r.Match)
            {
                yield return m.Gateways;
            }
        }

        foreach (var r in vs.Spec.Tls)
        {
            foreach (var m in r.Match)
            {
                yield return m.Gateways;
            }
        }

        foreach (var r in vs.Spec.Tcp)
        {
            foreach (var m in r.Match)
            {
                yield return m.Gateways;
            }
        }
    }

    internal IReadOnlyList<GatewayApiRoute> GatewayApiRoutesWithServiceEntryParent(string ns, string name) =>
        _routesByServiceEntryParent.TryGetValue(string.Concat(ns, "/", name), out var list) ? list : [];

    /// <summary>A Gateway API route's <c>hostnames</c> and the hosts of its Istio <c>Hostname</c> backends.</summary>
    public static IEnumerable<string> HostsOf(GatewayApiRoute route) =>
        route.Spec.Hostnames.Concat(route.Spec.Rules.SelectMany(r => r.BackendRefs).Where(b => b.IsHostname).Select(b => b.Name))
            .Where(h => h.Length > 0).Distinct(StringComparer.Ordinal);

    /// <summary>The ServiceEntries (<c>ns/name</c>) a Gateway API route names as parents.</summary>
    public static IEnumerable<string> ServiceEntryParentsOf(GatewayApiRoute route) =>
        route.Spec.ParentRefs.Where(p => p.Kind == "ServiceEntry" && p.Group == "networking.istio.io")
            .Select(p => string.Concat(string.IsNullOrEmpty(p.Namespace) ? route.Namespace : p.Namespace, "/", p.Name))
            .Distinct(StringComparer.Ordinal);

    private static string Label(string key, string value) => string.Concat(key, "=", value);

    private static void Append<T>(Dictionary<string, List<T>> map, string key, T item)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(item);
    }
}
