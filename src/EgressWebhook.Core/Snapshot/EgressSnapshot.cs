using System.Collections.Immutable;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>An immutable set of objects with the indexes the rules query. Read from any number of threads. Use
/// <see cref="SnapshotView"/> to query it, with or without a pending change.</summary>
/// <remarks>Persistent: <see cref="Apply"/> returns a new snapshot with some objects added, replaced or removed, which
/// shares every untouched part of every index with this one, so the cost of a change follows the change (its hosts,
/// labels and references), not the number of objects. <see cref="Create"/> builds the same structures in one pass.
/// Every list (objects of a kind, index buckets, namespaces) is ordered by kind, namespace and name (ordinal), so a
/// snapshot reached by any sequence of changes is indistinguishable from one created from its final objects.</remarks>
public sealed class EgressSnapshot
{
    private static readonly IComparer<EgressObject> Order = ObjectKeyOrder.Instance;
    private static readonly ImmutableList<EgressObject> NoObjects = [];

    private readonly ImmutableDictionary<ObjectKey, EgressObject> _byKey;
    private readonly ImmutableSortedDictionary<ResourceKind, ImmutableList<EgressObject>> _byKind;
    private readonly ImmutableDictionary<string, Sidecar> _defaultSidecars;
    private readonly SortedMultiMap<string, Service> _servicesBySelectorLabel;
    private readonly SortedMultiMap<string, Gateway> _gatewaysBySelectorLabel;
    private readonly SortedMultiMap<string, VirtualService> _vsByGateway;
    private readonly SortedMultiMap<string, GatewayApiRoute> _routesByServiceEntryParent;

    // namespaces that hold objects or are Namespace objects (the clients a mesh VirtualService may have), with the
    // number of objects that name each, and the TCP ports of ServiceEntries without addresses (each claims 0.0.0.0:port)
    private readonly ImmutableSortedDictionary<string, int> _namespaces;
    private readonly SortedMultiMap<int, ServiceEntry> _addresslessTcpByPort;

    internal HostIndex<ServiceEntry> ServiceEntryHosts { get; }

    internal HostIndex<Service> ServiceHosts { get; }

    internal HostIndex<VirtualService> VirtualServiceHosts { get; }

    internal HostIndex<VirtualService> VirtualServiceDestinations { get; }

    // the VirtualServices by the hosts of their destinations that name a subset: a DestinationRule's change matters to
    // EGW107 only for those (every team's mesh leg routes to the one egress gateway host, few name a subset)
    internal HostIndex<VirtualService> VirtualServiceSubsetDestinations { get; }

    internal HostIndex<DestinationRule> DestinationRuleHosts { get; }

    // DestinationRules per namespace as well: every team may define one for the shared egress gateway's host, and
    // the lookup path asks for the ones of a namespace
    private readonly ImmutableDictionary<string, HostIndex<DestinationRule>> _destinationRuleHostsByNamespace;

    // Gateways by the DNS part of their server hosts: many teams' Gateways share one egress gateway workload, so
    // "which Gateway serves this host" must not walk every Gateway of that workload
    internal HostIndex<Gateway> GatewayServerHosts { get; }

    /// <summary>Gateway API routes under their <c>hostnames</c> and Istio <c>Hostname</c> backends.</summary>
    internal HostIndex<GatewayApiRoute> GatewayApiRouteHosts { get; }

    public static EgressSnapshot Empty { get; } = new Builder(null, bulk: false).ToSnapshot();

    /// <summary>Mesh config of the snapshot (Istio's defaults when none was given).</summary>
    public MeshConfig Mesh { get; }

    /// <summary>The mesh config object of the snapshot as given (possibly one Istio rejects), if any.</summary>
    public MeshConfig? ConfiguredMesh { get; }

    /// <summary>Number of objects.</summary>
    public int Count => _byKey.Count;

    /// <summary>Every object, by kind, namespace and name.</summary>
    public IEnumerable<EgressObject> Objects => _byKind.Values.SelectMany(list => list);

    private EgressSnapshot(Builder b)
    {
        _byKey = b.ByKey.ToImmutable();
        _byKind = b.ByKind.ToImmutable();
        _defaultSidecars = b.DefaultSidecars.ToImmutable();
        _servicesBySelectorLabel = b.ServicesBySelectorLabel.ToImmutable();
        _gatewaysBySelectorLabel = b.GatewaysBySelectorLabel.ToImmutable();
        _vsByGateway = b.VsByGateway.ToImmutable();
        _routesByServiceEntryParent = b.RoutesByServiceEntryParent.ToImmutable();
        _namespaces = b.Namespaces.ToImmutable();
        _addresslessTcpByPort = b.AddresslessTcpByPort.ToImmutable();
        ServiceEntryHosts = b.ServiceEntryHosts.ToImmutable();
        ServiceHosts = b.ServiceHosts.ToImmutable();
        VirtualServiceHosts = b.VirtualServiceHosts.ToImmutable();
        VirtualServiceDestinations = b.VirtualServiceDestinations.ToImmutable();
        VirtualServiceSubsetDestinations = b.VirtualServiceSubsetDestinations.ToImmutable();
        DestinationRuleHosts = b.DestinationRuleHosts.ToImmutable();
        GatewayServerHosts = b.GatewayServerHosts.ToImmutable();
        GatewayApiRouteHosts = b.GatewayApiRouteHosts.ToImmutable();
        var byNamespace = b.DestinationRuleHostsByNamespace;
        foreach (var (ns, index) in b.DestinationRuleNamespaces)
        {
            var built = index.ToImmutable();
            if (built.IsEmpty)
            {
                byNamespace.Remove(ns);
            }
            else
            {
                byNamespace[ns] = built;
            }
        }

        _destinationRuleHostsByNamespace = byNamespace.ToImmutable();
        (Mesh, ConfiguredMesh) = b.MeshFrom(_byKind);
    }

    /// <summary>Namespaces that hold an object of the snapshot or are a Namespace object of it, in ordinal order.</summary>
    internal IEnumerable<string> Namespaces => _namespaces.Keys;

    /// <summary>How many <see cref="Namespaces"/> there are.</summary>
    internal int NamespaceCount => _namespaces.Count;

    /// <summary>Whether <paramref name="ns"/> is one of <see cref="Namespaces"/>.</summary>
    internal bool HasNamespace(string ns) => _namespaces.ContainsKey(ns);

    internal ImmutableList<ServiceEntry> AddresslessTcpServiceEntriesOn(int port) => _addresslessTcpByPort[port];

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
        ArgumentNullException.ThrowIfNull(objects);
        var byKey = new Dictionary<ObjectKey, EgressObject>();
        foreach (var obj in objects)
        {
            byKey[obj.Key] = obj;
        }

        // one pass into lists, each sorted once at the end: several times cheaper than as many single changes
        var builder = new Builder(null, bulk: true);
        builder.AddAll(byKey.Values);
        return builder.ToSnapshot();
    }

    /// <summary>This snapshot with <paramref name="changes"/> applied in order (an object replaces the one with its
    /// key, a deletion removes it; deleting a missing object does nothing). Shares every untouched part with this
    /// snapshot, which stays as it was.</summary>
    public EgressSnapshot Apply(IReadOnlyList<SnapshotChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
        {
            return this;
        }

        var builder = new Builder(this, bulk: false);
        foreach (var change in changes)
        {
            builder.Apply(change);
        }

        return builder.ToSnapshot();
    }

    public EgressObject? Find(ObjectKey key) => _byKey.GetValueOrDefault(key);

    public IReadOnlyList<EgressObject> OfKind(ResourceKind kind) => _byKind.TryGetValue(kind, out var list) ? list : NoObjects;

    /// <summary>The objects of <paramref name="kind"/> in namespace <paramref name="ns"/>, in key order: a range of the
    /// kind's list (kept in key order), found by binary search, so the cost follows the namespace, not the kind.</summary>
    public IEnumerable<EgressObject> OfKind(ResourceKind kind, string ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var list = _byKind.TryGetValue(kind, out var l) ? l : NoObjects;
        for (var i = Builder.FirstOfNamespace(list, ns); i < list.Count && list[i].Namespace == ns; i++)
        {
            yield return list[i];
        }
    }

    internal Sidecar? DefaultSidecar(string ns) => _defaultSidecars.GetValueOrDefault(ns);

    internal ImmutableList<Service> ServicesWithSelectorLabel(string key, string value) =>
        _servicesBySelectorLabel[Label(key, value)];

    internal ImmutableList<Gateway> GatewaysWithSelectorLabel(string key, string value) =>
        _gatewaysBySelectorLabel[Label(key, value)];

    internal HostIndex<DestinationRule>? DestinationRuleHostsIn(string ns) => _destinationRuleHostsByNamespace.GetValueOrDefault(ns);

    internal ImmutableList<VirtualService> VirtualServicesBoundTo(string gatewayRef) => _vsByGateway[gatewayRef];

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

    /// <summary>Distinct resolved hosts of a VirtualService's destinations that name a subset.</summary>
    public static IEnumerable<string> SubsetDestinationHostsOf(VirtualService vs) =>
        RouteDestinations.Of(vs).Where(d => d.Destination.Subset is { Length: > 0 }).Select(d => d.Host).Distinct(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="vs"/> names <paramref name="gatewayRef"/> (resolved) at spec or match level,
    /// <see cref="BoundGateways"/> without resolving every reference into a new string.</summary>
    public static bool IsBoundTo(VirtualService vs, string gatewayRef)
    {
        // plain loops: this runs for every candidate leg of a gateway-chain check
        if (vs.Spec.Gateways.Count == 0 ? gatewayRef == GatewayRefs.Mesh : AnyRefersTo(vs.Spec.Gateways, vs.Namespace, gatewayRef))
        {
            return true;
        }

        // the match-level lists, without the iterator of MatchGatewayLists
        var spec = vs.Spec;
        for (var i = 0; i < spec.Http.Count; i++)
        {
            for (var j = 0; j < spec.Http[i].Match.Count; j++)
            {
                if (AnyRefersTo(spec.Http[i].Match[j].Gateways, vs.Namespace, gatewayRef))
                {
                    return true;
                }
            }
        }

        for (var i = 0; i < spec.Tls.Count; i++)
        {
            for (var j = 0; j < spec.Tls[i].Match.Count; j++)
            {
                if (AnyRefersTo(spec.Tls[i].Match[j].Gateways, vs.Namespace, gatewayRef))
                {
                    return true;
                }
            }
        }

        for (var i = 0; i < spec.Tcp.Count; i++)
        {
            for (var j = 0; j < spec.Tcp[i].Match.Count; j++)
            {
                if (AnyRefersTo(spec.Tcp[i].Match[j].Gateways, vs.Namespace, gatewayRef))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool AnyRefersTo(IReadOnlyList<string> references, string vsNamespace, string gatewayRef)
    {
        for (var i = 0; i < references.Count; i++)
        {
            if (GatewayRefs.RefersTo(references[i], vsNamespace, gatewayRef))
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

    internal ImmutableList<GatewayApiRoute> GatewayApiRoutesWithServiceEntryParent(string ns, string name) =>
        _routesByServiceEntryParent[string.Concat(ns, "/", name)];

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

    /// <summary>The snapshot's structures while they change: every index entry an object contributes is added or
    /// removed by the one method <see cref="Index"/>, so an incremental change undoes exactly what a build did.</summary>
    private sealed class Builder
    {
        private readonly bool _bulk;
        private readonly HashSet<string> _sidecarNamespaces = new(StringComparer.Ordinal);
        private readonly Dictionary<ResourceKind, ImmutableList<EgressObject>.Builder> _kinds = [];
        private readonly Dictionary<ResourceKind, List<EgressObject>> _stagedKinds = [];
        private readonly Dictionary<string, int>? _stagedNamespaces;
        private readonly EgressSnapshot? _from;
        private bool _meshChanged;

        public Builder(EgressSnapshot? from, bool bulk)
        {
            _from = from;
            _bulk = bulk;
            ByKey = from?._byKey.ToBuilder() ?? ImmutableDictionary.CreateBuilder<ObjectKey, EgressObject>();
            ByKind = from?._byKind.ToBuilder() ?? ImmutableSortedDictionary.CreateBuilder<ResourceKind, ImmutableList<EgressObject>>();
            DefaultSidecars = from?._defaultSidecars.ToBuilder() ?? ImmutableDictionary.CreateBuilder<string, Sidecar>(StringComparer.Ordinal);
            ServicesBySelectorLabel = (from?._servicesBySelectorLabel ?? SortedMultiMap<string, Service>.Create(StringComparer.Ordinal, Order)).ToBuilder(bulk);
            GatewaysBySelectorLabel = (from?._gatewaysBySelectorLabel ?? SortedMultiMap<string, Gateway>.Create(StringComparer.Ordinal, Order)).ToBuilder(bulk);
            VsByGateway = (from?._vsByGateway ?? SortedMultiMap<string, VirtualService>.Create(StringComparer.Ordinal, Order)).ToBuilder(bulk);
            RoutesByServiceEntryParent = (from?._routesByServiceEntryParent ?? SortedMultiMap<string, GatewayApiRoute>.Create(StringComparer.Ordinal, Order)).ToBuilder(bulk);
            Namespaces = from?._namespaces.ToBuilder() ?? ImmutableSortedDictionary.CreateBuilder<string, int>(StringComparer.Ordinal);
            _stagedNamespaces = bulk ? new Dictionary<string, int>(StringComparer.Ordinal) : null;
            AddresslessTcpByPort = (from?._addresslessTcpByPort ?? SortedMultiMap<int, ServiceEntry>.Create(EqualityComparer<int>.Default, Order)).ToBuilder(bulk);
            ServiceEntryHosts = (from?.ServiceEntryHosts ?? HostIndex<ServiceEntry>.Create(Order)).ToBuilder(bulk);
            ServiceHosts = (from?.ServiceHosts ?? HostIndex<Service>.Create(Order)).ToBuilder(bulk);
            VirtualServiceHosts = (from?.VirtualServiceHosts ?? HostIndex<VirtualService>.Create(Order)).ToBuilder(bulk);
            VirtualServiceDestinations = (from?.VirtualServiceDestinations ?? HostIndex<VirtualService>.Create(Order)).ToBuilder(bulk);
            VirtualServiceSubsetDestinations = (from?.VirtualServiceSubsetDestinations ?? HostIndex<VirtualService>.Create(Order)).ToBuilder(bulk);
            DestinationRuleHosts = (from?.DestinationRuleHosts ?? HostIndex<DestinationRule>.Create(Order)).ToBuilder(bulk);
            GatewayServerHosts = (from?.GatewayServerHosts ?? HostIndex<Gateway>.Create(Order)).ToBuilder(bulk);
            GatewayApiRouteHosts = (from?.GatewayApiRouteHosts ?? HostIndex<GatewayApiRoute>.Create(Order)).ToBuilder(bulk);
            DestinationRuleHostsByNamespace = from?._destinationRuleHostsByNamespace.ToBuilder() ??
                ImmutableDictionary.CreateBuilder<string, HostIndex<DestinationRule>>(StringComparer.Ordinal);
        }

        public ImmutableDictionary<ObjectKey, EgressObject>.Builder ByKey { get; }

        public ImmutableSortedDictionary<ResourceKind, ImmutableList<EgressObject>>.Builder ByKind { get; }

        public ImmutableDictionary<string, Sidecar>.Builder DefaultSidecars { get; }

        public SortedMultiMap<string, Service>.Builder ServicesBySelectorLabel { get; }

        public SortedMultiMap<string, Gateway>.Builder GatewaysBySelectorLabel { get; }

        public SortedMultiMap<string, VirtualService>.Builder VsByGateway { get; }

        public SortedMultiMap<string, GatewayApiRoute>.Builder RoutesByServiceEntryParent { get; }

        public ImmutableSortedDictionary<string, int>.Builder Namespaces { get; }

        public SortedMultiMap<int, ServiceEntry>.Builder AddresslessTcpByPort { get; }

        public HostIndex<ServiceEntry>.Builder ServiceEntryHosts { get; }

        public HostIndex<Service>.Builder ServiceHosts { get; }

        public HostIndex<VirtualService>.Builder VirtualServiceHosts { get; }

        public HostIndex<VirtualService>.Builder VirtualServiceDestinations { get; }

        public HostIndex<VirtualService>.Builder VirtualServiceSubsetDestinations { get; }

        public HostIndex<DestinationRule>.Builder DestinationRuleHosts { get; }

        public HostIndex<Gateway>.Builder GatewayServerHosts { get; }

        public HostIndex<GatewayApiRoute>.Builder GatewayApiRouteHosts { get; }

        public ImmutableDictionary<string, HostIndex<DestinationRule>>.Builder DestinationRuleHostsByNamespace { get; }

        /// <summary>The per-namespace DestinationRule indexes changed so far.</summary>
        public Dictionary<string, HostIndex<DestinationRule>.Builder> DestinationRuleNamespaces { get; } = new(StringComparer.Ordinal);

        public void AddAll(IEnumerable<EgressObject> objects)
        {
            foreach (var obj in objects)
            {
                ByKey[obj.Key] = obj;
                if (!_stagedKinds.TryGetValue(obj.ResourceKind, out var list))
                {
                    _stagedKinds[obj.ResourceKind] = list = [];
                }

                list.Add(obj);
                Index(obj, add: true);
            }
        }

        public void Apply(SnapshotChange change)
        {
            var key = change.Key;
            if (ByKey.TryGetValue(key, out var old))
            {
                Index(old, add: false);
            }

            var kind = Kind(key.Kind);
            var at = FindIn(kind, key);
            if (change.Object is { } obj)
            {
                if (obj.Key != key)
                {
                    throw new ArgumentException($"change of {key} carries {obj.Key}", nameof(change));
                }

                ByKey[key] = obj;
                if (at >= 0)
                {
                    kind[at] = obj;
                }
                else
                {
                    kind.Insert(~at, obj);
                }

                Index(obj, add: true);
            }
            else if (old is not null)
            {
                ByKey.Remove(key);
                kind.RemoveAt(at);
            }
        }

        private ImmutableList<EgressObject>.Builder Kind(ResourceKind kind)
        {
            if (!_kinds.TryGetValue(kind, out var list))
            {
                _kinds[kind] = list = (ByKind.TryGetValue(kind, out var stored) ? stored : NoObjects).ToBuilder();
            }

            return list;
        }

        /// <summary>Index of the object with <paramref name="key"/> in its kind's sorted list, or the complement of
        /// where it would go.</summary>
        private static int FindIn(ImmutableList<EgressObject>.Builder list, ObjectKey key)
        {
            int lo = 0, hi = list.Count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var c = ObjectKeyOrder.Compare(list[mid].Key, key);
                if (c == 0)
                {
                    return mid;
                }

                if (c < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return ~lo;
        }

        /// <summary>Adds (or removes) every index entry of <paramref name="obj"/>.</summary>
        private void Index(EgressObject obj, bool add)
        {
            CountNamespace(obj is Namespace ? obj.Name : obj.Namespace, add);
            switch (obj)
            {
                // each host once per object: an object may list one host thousands of times, and every query of it
                // would return each copy
                case ServiceEntry se:
                    foreach (var h in HostsOf(se).Distinct(StringComparer.Ordinal))
                    {
                        Put(ServiceEntryHosts, h, se, add);
                    }

                    foreach (var port in AddresslessTcpPorts(se))
                    {
                        Put(AddresslessTcpByPort, port, se, add);
                    }

                    break;
                case Service svc:
                    Put(ServiceHosts, HostOf(svc), svc, add);
                    foreach (var (k, v) in svc.Spec.Selector)
                    {
                        Put(ServicesBySelectorLabel, Label(k, v), svc, add);
                    }

                    break;
                case Gateway gw:
                    foreach (var (k, v) in gw.Spec.Selector)
                    {
                        Put(GatewaysBySelectorLabel, Label(k, v), gw, add);
                    }

                    foreach (var h in ServerHostsOf(gw))
                    {
                        Put(GatewayServerHosts, h, gw, add);
                    }

                    break;
                case VirtualService vs:
                    foreach (var h in HostsOf(vs).Distinct(StringComparer.Ordinal))
                    {
                        Put(VirtualServiceHosts, h, vs, add);
                    }

                    foreach (var g in BoundGateways(vs))
                    {
                        Put(VsByGateway, g, vs, add);
                    }

                    foreach (var h in DestinationHostsOf(vs))
                    {
                        Put(VirtualServiceDestinations, h, vs, add);
                    }

                    foreach (var h in SubsetDestinationHostsOf(vs))
                    {
                        Put(VirtualServiceSubsetDestinations, h, vs, add);
                    }

                    break;
                case DestinationRule dr:
                    Put(DestinationRuleHosts, HostOf(dr), dr, add);
                    if (!DestinationRuleNamespaces.TryGetValue(dr.Namespace, out var index))
                    {
                        DestinationRuleNamespaces[dr.Namespace] = index =
                            (DestinationRuleHostsByNamespace.GetValueOrDefault(dr.Namespace) ?? HostIndex<DestinationRule>.Create(Order)).ToBuilder(_bulk);
                    }

                    Put(index, HostOf(dr), dr, add);
                    break;
                case GatewayApiRoute route:
                    foreach (var h in HostsOf(route))
                    {
                        Put(GatewayApiRouteHosts, h, route, add);
                    }

                    foreach (var parent in ServiceEntryParentsOf(route))
                    {
                        Put(RoutesByServiceEntryParent, parent, route, add);
                    }

                    break;
                case Sidecar sc:
                    _sidecarNamespaces.Add(sc.Namespace);
                    break;
                case MeshConfig:
                    _meshChanged = true;
                    break;
            }
        }

        private void CountNamespace(string ns, bool add)
        {
            if (ns.Length == 0)
            {
                return;
            }

            if (_stagedNamespaces is not null)
            {
                _stagedNamespaces[ns] = _stagedNamespaces.GetValueOrDefault(ns) + 1;
                return;
            }

            var count = Namespaces.GetValueOrDefault(ns) + (add ? 1 : -1);
            if (count > 0)
            {
                Namespaces[ns] = count;
            }
            else
            {
                Namespaces.Remove(ns);
            }
        }

        private static void Put<T>(HostIndex<T>.Builder index, string host, T item, bool add)
            where T : class
        {
            if (add)
            {
                index.Add(host, item);
            }
            else
            {
                index.Remove(host, item);
            }
        }

        private static void Put<TKey, T>(SortedMultiMap<TKey, T>.Builder map, TKey key, T item, bool add)
            where TKey : notnull
        {
            if (add)
            {
                map.Add(key, item);
            }
            else
            {
                map.Remove(key, item);
            }
        }

        public EgressSnapshot ToSnapshot()
        {
            foreach (var (kind, list) in _stagedKinds)
            {
                list.Sort(Order);
                ByKind[kind] = ImmutableList.CreateRange(list);
            }

            foreach (var (kind, list) in _kinds)
            {
                if (list.Count == 0)
                {
                    ByKind.Remove(kind);
                }
                else
                {
                    ByKind[kind] = list.ToImmutable();
                }
            }

            if (_stagedNamespaces is not null)
            {
                Namespaces.AddRange(_stagedNamespaces);
            }

            // the first Sidecar without a workload selector (by name) is the namespace's default
            var sidecars = ByKind.TryGetValue(ResourceKind.Sidecar, out var all) ? all : NoObjects;
            foreach (var ns in _sidecarNamespaces)
            {
                DefaultSidecars.Remove(ns);
                for (var i = FirstOfNamespace(sidecars, ns); i < sidecars.Count && sidecars[i].Namespace == ns; i++)
                {
                    if (sidecars[i] is Sidecar { Spec.WorkloadSelector: null or { Labels.Count: 0 } } sc)
                    {
                        DefaultSidecars[ns] = sc;
                        break;
                    }
                }
            }

            return new EgressSnapshot(this);
        }

        /// <summary>Where namespace <paramref name="ns"/> begins in a kind's key-ordered list.</summary>
        internal static int FirstOfNamespace(IReadOnlyList<EgressObject> list, string ns) =>
            LowerBound.Of(list, ns, static (o, n) => string.CompareOrdinal(o.Namespace, n) < 0);

        /// <summary>The mesh config: the unrevisioned one (<c>istio</c>) wins over revisioned ones, else the first.</summary>
        public (MeshConfig Effective, MeshConfig? Configured) MeshFrom(ImmutableSortedDictionary<ResourceKind, ImmutableList<EgressObject>> byKind)
        {
            if (!_meshChanged && _from is not null)
            {
                return (_from.Mesh, _from.ConfiguredMesh);
            }

            MeshConfig? mesh = null;
            foreach (var obj in byKind.GetValueOrDefault(ResourceKind.MeshConfig, NoObjects))
            {
                var m = (MeshConfig)obj;
                if (mesh is null || m.Name == "istio" || m.Name.Length == 0)
                {
                    mesh = m;
                }
            }

            return ((mesh ?? MeshConfig.Default).Effective, mesh);
        }
    }
}
