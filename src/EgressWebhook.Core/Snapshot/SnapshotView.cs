using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>Queries over a snapshot, optionally with one pending change layered on top (the object under
/// admission replaces its stored version, or a deleted object is gone). The snapshot's indexes are not rebuilt: each
/// query filters the base result and looks the changed object up alone, through an index of its own hosts once it has
/// more than a few (an object under admission may list thousands, and the rules query once per host).</summary>
/// <remarks>A view may carry the request's budget: every index query throws <see cref="OperationCanceledException"/>
/// once it is spent, so that no rule keeps a core busy past the deadline. A view serves one check on one thread: it
/// memoizes as it is asked (the added object's host index, the last Gateway looked up), and is not safe to share
/// between threads; make a view per check (<see cref="Of"/>, <see cref="With"/> and <see cref="Without"/> are cheap).</remarks>
public sealed class SnapshotView
{
    /// <summary>Above this many distinct hosts, the added object's hosts are indexed rather than scanned per query.</summary>
    internal const int ScanAtMost = 8;

    private readonly EgressObject? _added;
    private readonly ObjectKey? _removed;
    private readonly CancellationToken _budget;

    // the added object's distinct hosts per host set (its hosts, or a VirtualService's destinations): a string[] while
    // there are few, else a HostIndex<T> of them; built on the first query that needs them
    private object? _addedHosts;
    private object? _addedDestinations;
    private object? _addedSubsetDestinations;

    // the gateways an added VirtualService with many references or rules is bound to
    private HashSet<string>? _addedBound;

    // the added ServiceEntry's addressless TCP ports, built on the first query (a rule asks once per port)
    private HashSet<int>? _addedAddresslessTcpPorts;

    // the VirtualServices routing to a registry object's hosts, asked by several rules' AffectedBy about the same object
    private (EgressObject Changed, EgressObject[] Routing)? _routingTo;

    // the ServiceEntries declaring exactly the hosts of one entry (EGW110 and EGW118 ask about the same subject)
    private (ServiceEntry Subject, ExactServiceEntries Lookup)? _exactFor;

    // a changed registry object's distinct hosts (several rules' AffectedBy ask about the same object), indexed when
    // AffectedBy matches the view's entries against them
    private (EgressObject Changed, Func<EgressObject, HashSet<string>> HostsOf, HashSet<string> Hosts)? _changedHosts;
    private HostSet? _changedHostSet;

    // the last Gateway looked up by reference (Gateway(string))
    private (string Ref, Gateway? Gateway)? _lastGateway;

    // the hosts one query finds in the added object's HostSet
    private List<string>? _scratch;

    private SnapshotView(EgressSnapshot snapshot, EgressObject? added, ObjectKey? removed, CancellationToken budget)
    {
        Snapshot = snapshot;
        _added = added;
        _removed = removed;
        _budget = budget;
        Mesh = (added as MeshConfig)?.Effective ?? (removed is { Kind: ResourceKind.MeshConfig } ? MeshConfig.Default : snapshot.Mesh);
    }

    public EgressSnapshot Snapshot { get; }

    /// <summary>The mesh config in effect.</summary>
    public MeshConfig Mesh { get; }

    /// <summary>The object this view adds (the object under admission), if any.</summary>
    public EgressObject? Added => _added;

    public static SnapshotView Of(EgressSnapshot snapshot) => new(snapshot, null, null, default);

    /// <summary>The snapshot with <paramref name="obj"/> in place of the object with the same key.</summary>
    public static SnapshotView With(EgressSnapshot snapshot, EgressObject obj, CancellationToken budget = default) => new(snapshot, obj, obj.Key, budget);

    /// <summary>The snapshot without the object <paramref name="key"/>.</summary>
    public static SnapshotView Without(EgressSnapshot snapshot, ObjectKey key, CancellationToken budget = default) => new(snapshot, null, key, budget);

    /// <summary>The request's budget this view was made with.</summary>
    public CancellationToken Budget => _budget;

    /// <summary>Number of objects in the view.</summary>
    public int Count => Snapshot.Count + (_added is not null && Snapshot.Find(_added.Key) is null ? 1 : 0) -
                        (_removed is { } r && _added is null && Snapshot.Find(r) is not null ? 1 : 0);

    /// <summary>Every object of the view.</summary>
    public IEnumerable<EgressObject> Objects
    {
        get
        {
            foreach (var obj in Snapshot.Objects)
            {
                if (!IsRemoved(obj))
                {
                    yield return obj;
                }
            }

            if (_added is not null)
            {
                yield return _added;
            }
        }
    }

    public IEnumerable<T> OfKind<T>(ResourceKind kind)
        where T : EgressObject
    {
        foreach (var obj in Snapshot.OfKind(kind))
        {
            if (!IsRemoved(obj))
            {
                yield return (T)obj;
            }
        }

        if (_added is T added && added.ResourceKind == kind)
        {
            yield return added;
        }
    }

    public EgressObject? Find(ObjectKey key) =>
        _added is not null && _added.Key == key ? _added :
        _removed == key ? null :
        Snapshot.Find(key);

    public Gateway? Gateway(string ns, string name) => Find(new ObjectKey(ResourceKind.Gateway, ns, name)) as Gateway;

    /// <summary>Gateway for a resolved reference <c>ns/name</c>; null for <c>mesh</c> or a missing one.</summary>
    public Gateway? Gateway(string resolvedRef)
    {
        if (resolvedRef == GatewayRefs.Mesh)
        {
            return null;
        }

        // a check asks about its VirtualService's Gateways again and again: the last answer is kept, so that the
        // reference is not split into new strings each time (a view serves one check at a time)
        if (_lastGateway is { } last && last.Ref == resolvedRef)
        {
            return last.Gateway;
        }

        var (ns, name) = GatewayRefs.Split(resolvedRef);
        var gateway = Gateway(ns, name);
        _lastGateway = (resolvedRef, gateway);
        return gateway;
    }

    /// <summary>Whether the view holds any Service (rules about gateway workloads stay silent without them).</summary>
    public bool HasServices => Snapshot.OfKind(ResourceKind.Service).Count > 0 || _added is Service;

    /// <summary>Whether the view holds at least one object of <paramref name="kind"/>. Rules that report a missing
    /// Gateway or DestinationRule use it: an input without any object of the kind says nothing about absence
    /// (offline checks of partial manifests), so those findings are softened there.</summary>
    public bool HasAny(ResourceKind kind)
    {
        if (_added is not null && _added.ResourceKind == kind)
        {
            return true;
        }

        var stored = Snapshot.OfKind(kind);
        return stored.Count > 1 || (stored.Count == 1 && !IsRemoved(stored[0]));
    }

    /// <summary>Namespaces holding objects of the view (or named by its Namespace objects); a deleted object's
    /// namespace stays. Read by the mesh VirtualService client check.</summary>
    public IEnumerable<string> KnownNamespaces
    {
        get
        {
            foreach (var ns in Snapshot.Namespaces)
            {
                yield return ns;
            }

            var extra = _added is Namespace ? _added.Name : _added?.Namespace;
            if (!string.IsNullOrEmpty(extra) && !Snapshot.HasNamespace(extra))
            {
                yield return extra;
            }
        }
    }

    /// <summary>How many <see cref="KnownNamespaces"/> there are, without walking them.</summary>
    public int KnownNamespaceCount
    {
        get
        {
            var extra = _added is Namespace ? _added.Name : _added?.Namespace;
            return Snapshot.NamespaceCount + (!string.IsNullOrEmpty(extra) && !Snapshot.HasNamespace(extra) ? 1 : 0);
        }
    }

    /// <summary>Whether <paramref name="ns"/> is one of <see cref="KnownNamespaces"/>.</summary>
    public bool IsKnownNamespace(string ns) =>
        Snapshot.HasNamespace(ns) || (_added is Namespace ? _added.Name : _added?.Namespace) == ns;

    /// <summary>ServiceEntries with a TCP (or protocol-less) port <paramref name="port"/> and no address (<see cref="EgressSnapshot.AddresslessTcpPorts"/>).</summary>
    public List<ServiceEntry> AddresslessTcpServiceEntriesOn(int port)
    {
        var result = new List<ServiceEntry>();
        foreach (var se in Snapshot.AddresslessTcpServiceEntriesOn(port))
        {
            if (!IsRemoved(se))
            {
                result.Add(se);
            }
        }

        if (_added is ServiceEntry a && (_addedAddresslessTcpPorts ??= [.. EgressSnapshot.AddresslessTcpPorts(a)]).Contains(port))
        {
            result.Add(a);
        }

        return result;
    }

    /// <summary>The labels of namespace <paramref name="ns"/>: its Namespace object's, else the one label Kubernetes
    /// sets on every namespace (<c>kubernetes.io/metadata.name</c>).</summary>
    public IReadOnlyDictionary<string, string> NamespaceLabels(string ns)
    {
        var labels = Find(new ObjectKey(ResourceKind.Namespace, "", ns))?.Metadata.Labels;
        if (labels is not null && labels.ContainsKey(NamespaceNameLabel))
        {
            return labels;
        }

        var result = labels is null ? new Dictionary<string, string>(1) : new Dictionary<string, string>(labels);
        result[NamespaceNameLabel] = ns;
        return result;
    }

    /// <summary>The label the API server puts on every namespace: its name.</summary>
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    /// <summary>Whether the view knows Namespace objects at all.</summary>
    public bool HasNamespaces => Snapshot.OfKind(ResourceKind.Namespace).Count > 0 || _added is Namespace;

    public Sidecar? DefaultSidecar(string ns)
    {
        if (_added is Sidecar sc && sc.Namespace == ns && sc.Spec.WorkloadSelector is null or { Labels.Count: 0 })
        {
            return sc;
        }

        var stored = Snapshot.DefaultSidecar(ns);
        return stored is not null && IsRemoved(stored) ? null : stored;
    }

    /// <summary>ServiceEntries with a host that matches <paramref name="host"/> (resolved).</summary>
    public List<HostMatch<ServiceEntry>> ServiceEntries(string host) =>
        Query(Snapshot.ServiceEntryHosts, host, static se => EgressSnapshot.HostsOf(se));

    /// <summary>Services whose registry name matches <paramref name="host"/> (resolved).</summary>
    public List<HostMatch<Service>> Services(string host) =>
        Query(Snapshot.ServiceHosts, host, static svc => [EgressSnapshot.HostOf(svc)]);

    /// <summary>VirtualServices with a host that matches <paramref name="host"/>.</summary>
    public List<HostMatch<VirtualService>> VirtualServices(string host) =>
        Query(Snapshot.VirtualServiceHosts, host, static vs => EgressSnapshot.HostsOf(vs));

    /// <summary>VirtualServices with a route destination whose host matches <paramref name="host"/>.</summary>
    public List<HostMatch<VirtualService>> VirtualServicesRoutingTo(string host) =>
        Query(Snapshot.VirtualServiceDestinations, host, static vs => EgressSnapshot.DestinationHostsOf(vs), AddedHosts.Destinations);

    /// <summary>VirtualServices with a destination that names a subset and whose host matches <paramref name="host"/>
    /// (through their own index: not every route to the host).</summary>
    public List<HostMatch<VirtualService>> VirtualServicesRoutingToSubsetsOf(string host) =>
        Query(Snapshot.VirtualServiceSubsetDestinations, host, static vs => EgressSnapshot.SubsetDestinationHostsOf(vs), AddedHosts.SubsetDestinations);

    /// <summary>DestinationRules in namespace <paramref name="ns"/> whose host matches <paramref name="host"/>.</summary>
    public List<HostMatch<DestinationRule>> DestinationRulesIn(string ns, string host)
    {
        var result = Query(Snapshot.DestinationRuleHostsIn(ns), host, static dr => [EgressSnapshot.HostOf(dr)]);
        if (_added is DestinationRule { } a && a.Namespace != ns)
        {
            result.RemoveAll(m => ReferenceEquals(m.Item, a));
        }

        return result;
    }

    /// <summary>Gateways with a server host whose DNS part matches <paramref name="host"/>, whatever its namespace part.</summary>
    public List<HostMatch<Gateway>> GatewaysServing(string host) =>
        Query(Snapshot.GatewayServerHosts, host, static gw => EgressSnapshot.ServerHostsOf(gw));

    /// <summary>DestinationRules whose host matches <paramref name="host"/>.</summary>
    public List<HostMatch<DestinationRule>> DestinationRules(string host) =>
        Query(Snapshot.DestinationRuleHosts, host, static dr => [EgressSnapshot.HostOf(dr)]);

    /// <summary>Gateway API routes that name the ServiceEntry <paramref name="ns"/>/<paramref name="name"/> in their <c>parentRefs</c>.</summary>
    public List<GatewayApiRoute> GatewayApiRoutesWithServiceEntryParent(string ns, string name)
    {
        _budget.ThrowIfCancellationRequested();
        var result = new List<GatewayApiRoute>();
        foreach (var route in Snapshot.GatewayApiRoutesWithServiceEntryParent(ns, name))
        {
            if (!IsRemoved(route))
            {
                result.Add(route);
            }
        }

        if (_added is GatewayApiRoute a && EgressSnapshot.ServiceEntryParentsOf(a).Contains(string.Concat(ns, "/", name)))
        {
            result.Add(a);
        }

        return result;
    }

    /// <summary>Gateway API routes with a <c>hostnames</c> entry or Istio <c>Hostname</c> backend matching <paramref name="host"/>.</summary>
    public List<HostMatch<GatewayApiRoute>> GatewayApiRoutes(string host) =>
        Query(Snapshot.GatewayApiRouteHosts, host, static r => EgressSnapshot.HostsOf(r));

    /// <summary>VirtualServices that name <paramref name="gatewayRef"/> (<c>ns/name</c> or <c>mesh</c>) at spec or match level.</summary>
    public List<VirtualService> VirtualServicesBoundTo(string gatewayRef)
    {
        _budget.ThrowIfCancellationRequested();
        var result = new List<VirtualService>();
        foreach (var vs in Snapshot.VirtualServicesBoundTo(gatewayRef))
        {
            if (!IsRemoved(vs))
            {
                result.Add(vs);
            }
        }

        if (_added is VirtualService a && (a.Spec.Gateways.Count <= ScanAtMost && a.Spec.Http.Count + a.Spec.Tls.Count + a.Spec.Tcp.Count <= ScanAtMost
                ? EgressSnapshot.IsBoundTo(a, gatewayRef)
                : (_addedBound ??= EgressSnapshot.BoundGateways(a).ToHashSet(StringComparer.Ordinal)).Contains(gatewayRef)))
        {
            result.Add(a);
        }

        return result;
    }

    /// <summary>Services whose <c>spec.selector</c> contains every label of <paramref name="selector"/>:
    /// the offline stand-in for "the pods this selector picks".</summary>
    public List<Service> ServicesSelecting(IReadOnlyDictionary<string, string> selector)
    {
        var result = new List<Service>();
        if (selector.Count == 0)
        {
            return result;
        }

        var (k, v) = selector.First();
        foreach (var svc in Snapshot.ServicesWithSelectorLabel(k, v))
        {
            if (!IsRemoved(svc) && Contains(svc.Spec.Selector, selector))
            {
                result.Add(svc);
            }
        }

        if (_added is Service a && Contains(a.Spec.Selector, selector))
        {
            result.Add(a);
        }

        return result;
    }

    /// <summary>Gateways whose (non-empty) selector picks the pods of <paramref name="service"/>: every selector label
    /// is in the Service's selector. This is how a destination Service is recognised as a gateway's Service.</summary>
    public List<Gateway> GatewaysSelectingPodsOf(Service service) => [.. SelectingPodsOf(service)];

    private IEnumerable<Gateway> SelectingPodsOf(Service service)
    {
        _budget.ThrowIfCancellationRequested();
        // a selecting Gateway shares every one of its labels with the Service, so the label index finds all of them;
        // with one label (the usual istio: egressgateway) no Gateway can come twice
        var seen = service.Spec.Selector.Count > 1 ? new HashSet<ObjectKey>() : null;
        foreach (var (k, v) in service.Spec.Selector)
        {
            foreach (var gw in Snapshot.GatewaysWithSelectorLabel(k, v))
            {
                if (!IsRemoved(gw) && seen?.Add(gw.Key) != false && Selects(gw, service))
                {
                    yield return gw;
                }
            }
        }

        // the stored version of an added Gateway is removed from the view, so the added one is new here
        if (_added is Gateway a && seen?.Add(a.Key) != false && Selects(a, service))
        {
            yield return a;
        }
    }

    /// <summary>Whether some Gateway selects the pods of <paramref name="service"/> (see <see cref="GatewaysSelectingPodsOf"/>),
    /// stopping at the first: on a shared egress gateway the full list can be every team's Gateway.</summary>
    public bool AnyGatewaySelectingPodsOf(Service service) => SelectingPodsOf(service).Any();

    /// <summary>Whether <paramref name="gateway"/>'s (non-empty) selector picks the pods of <paramref name="service"/>.</summary>
    public static bool Selects(Gateway gateway, Service service) =>
        gateway.Spec.Selector.Count > 0 && Contains(service.Spec.Selector, gateway.Spec.Selector);

    /// <summary>Gateways other than <paramref name="gateway"/> on the same workload (<see cref="OnSameWorkload"/>) with a
    /// server host whose DNS name matches one of <paramref name="gateway"/>'s: the ones whose servers can collide with
    /// its servers, found through the server-host index rather than among every Gateway of the workload.</summary>
    public List<Gateway> GatewaysOnSameWorkloadServingItsHosts(Gateway gateway)
    {
        var result = new List<Gateway>();
        if (gateway.Spec.Selector.Count == 0)
        {
            return result;
        }

        // through MatchingAny: a Gateway may list 150,000 server hosts, more than the index has entries
        foreach (var gw in MatchingAny(Snapshot.GatewayServerHosts, gateway, ServerHostSet, GatewaysServing))
        {
            if (gw.Key != gateway.Key && OnSameWorkload(gateway, gw))
            {
                result.Add(gw);
            }
        }

        return result;
    }

    /// <summary>A Gateway's distinct server host DNS names (<see cref="EgressSnapshot.ServerHostsOf"/>), for
    /// <see cref="MatchingAny"/>: the same delegate in each caller lets them share the set of one Gateway under admission.</summary>
    internal static HashSet<string> ServerHostSet(EgressObject gateway) =>
        new(EgressSnapshot.ServerHostsOf((Gateway)gateway), StringComparer.Ordinal);

    /// <summary>Whether two Gateways select the same workload: equal selectors, or one contains the other (the pods of
    /// the narrower one are picked by both). An empty selector selects nothing here.</summary>
    public static bool OnSameWorkload(Gateway a, Gateway b) =>
        a.Spec.Selector.Count > 0 && b.Spec.Selector.Count > 0 &&
        (Contains(a.Spec.Selector, b.Spec.Selector) || Contains(b.Spec.Selector, a.Spec.Selector));

    /// <summary>Whether <paramref name="labels"/> contains every pair of <paramref name="selector"/>.</summary>
    public static bool Contains(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> selector)
    {
        foreach (var (k, v) in selector)
        {
            if (!labels.TryGetValue(k, out var actual) || actual != v)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The VirtualServices that route to the hosts of <paramref name="changed"/>, computed by
    /// <paramref name="compute"/> once per view and object: EGW101, EGW102, EGW105 and EGW115 each ask it about the
    /// changed registry object, which may declare 150,000 hosts (one index query each).</summary>
    internal EgressObject[] VirtualServicesRoutingTo(EgressObject changed, Func<EgressObject[]> compute)
    {
        if (_routingTo is { } memo && ReferenceEquals(memo.Changed, changed))
        {
            return memo.Routing;
        }

        var routing = compute();
        _routingTo = (changed, routing);
        return routing;
    }

    /// <summary>The ServiceEntries of the view that declare a host of <paramref name="subject"/> exactly as written
    /// (resolved; no wildcard matching), <paramref name="subject"/> itself left out: built once per subject through the
    /// index's exact buckets, from whichever side is smaller (the subject's hosts or the indexed hosts), so that EGW110
    /// and EGW118 each cost one hash lookup per host of an entry that may list 150,000.</summary>
    public ExactServiceEntries ServiceEntriesDeclaringHostsOf(ServiceEntry subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (_exactFor is { } memo && ReferenceEquals(memo.Subject, subject))
        {
            return memo.Lookup;
        }

        _budget.ThrowIfCancellationRequested();
        // each distinct host with the index of its first spec.hosts entry
        var hosts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < subject.Spec.Hosts.Count; i++)
        {
            // a "~" list item decodes to null
            if (subject.Spec.Hosts[i] is { } h)
            {
                hosts.TryAdd(HostName.Resolve(h, subject.Namespace), i);
            }
        }

        var stored = new Dictionary<string, List<ServiceEntry>>(StringComparer.Ordinal);
        void Take(System.Collections.Immutable.ImmutableList<HostMatch<ServiceEntry>> bucket)
        {
            List<ServiceEntry>? list = null;
            foreach (var m in bucket)
            {
                if (!IsRemoved(m.Item) && !ReferenceEquals(m.Item, subject))
                {
                    list ??= stored[m.Host] = [];
                    list.Add(m.Item);
                }
            }
        }

        var index = Snapshot.ServiceEntryHosts;
        if (hosts.Count > index.HostCount)
        {
            foreach (var bucket in index.ExactBuckets)
            {
                if (bucket.Count > 0 && hosts.ContainsKey(bucket[0].Host))
                {
                    Take(bucket);
                }
            }
        }
        else
        {
            foreach (var h in hosts.Keys)
            {
                Take(index.Exact(h));
            }
        }

        HashSet<string>? addedHosts = null;
        if (_added is ServiceEntry a && !ReferenceEquals(a, subject))
        {
            addedHosts = [];
            foreach (var written in a.Spec.Hosts)
            {
                if (written is not null && HostName.Resolve(written, a.Namespace) is var h && hosts.ContainsKey(h))
                {
                    addedHosts.Add(h);
                }
            }
        }

        // the subject's hosts that some entry declares, in spec.hosts order: the only ones EGW110 and EGW118 look at
        var declared = new List<(string Host, int Index)>();
        foreach (var h in stored.Keys)
        {
            declared.Add((h, hosts[h]));
        }

        foreach (var h in addedHosts ?? [])
        {
            if (!stored.ContainsKey(h))
            {
                declared.Add((h, hosts[h]));
            }
        }

        declared.Sort((x, y) => x.Index.CompareTo(y.Index));
        var lookup = new ExactServiceEntries(stored, addedHosts is { Count: > 0 } ? (ServiceEntry)_added! : null, addedHosts, declared);
        _exactFor = (subject, lookup);
        return lookup;
    }

    /// <summary>The distinct items of <paramref name="index"/> in this view with a host that matches one of the hosts of
    /// <paramref name="changed"/> (<paramref name="hostsOf"/>, asked once per view and object): what
    /// <paramref name="query"/> finds for each host, without asking it once per host when the object has more hosts than
    /// the index has entries; then each indexed entry is matched against the object's hosts instead (the same pairs match
    /// either way: matching is symmetric). For AffectedBy: the result is a set, in no promised order.</summary>
    internal List<T> MatchingAny<T>(HostIndex<T>? index, EgressObject changed, Func<EgressObject, HashSet<string>> hostsOf, Func<string, List<HostMatch<T>>> query)
        where T : EgressObject
    {
        HashSet<string> hosts;
        if (_changedHosts is { } memo && ReferenceEquals(memo.Changed, changed) && memo.HostsOf.Equals(hostsOf))
        {
            hosts = memo.Hosts;
        }
        else
        {
            hosts = hostsOf(changed);
            _changedHosts = (changed, hostsOf, hosts);
            _changedHostSet = null;
        }

        var seen = new HashSet<ObjectKey>();
        var result = new List<T>();
        if (index is null || (_added is T && !ReferenceEquals(_added, changed)) || hosts.Count <= ScanAtMost || hosts.Count <= index.Count)
        {
            foreach (var h in hosts)
            {
                foreach (var m in query(h))
                {
                    if (seen.Add(m.Item.Key))
                    {
                        result.Add(m.Item);
                    }
                }
            }

            return result;
        }

        _budget.ThrowIfCancellationRequested();
        var set = _changedHostSet ??= new HostSet(hosts);
        var found = new List<string>();
        foreach (var m in index.Entries)
        {
            if (seen.Contains(m.Item.Key) || IsRemoved(m.Item))
            {
                continue;
            }

            found.Clear();
            set.Query(m.Host, found);
            if (found.Count > 0 && seen.Add(m.Item.Key))
            {
                result.Add(m.Item);
            }
        }

        // the changed object, when the view adds it, matches its own hosts (each host matches itself)
        if (_added is T self && ReferenceEquals(self, changed) && hosts.Count > 0 && seen.Add(self.Key))
        {
            result.Add(self);
        }

        return result;
    }

    /// <summary>For each host of <paramref name="hosts"/> (an object's, <paramref name="subject"/>), the entries of
    /// <paramref name="index"/> in this view whose host matches it: what the view's query of that index finds for the
    /// host, less <paramref name="subject"/> itself (by key), in no promised order. Found by matching each indexed entry
    /// against the hosts once (matching is symmetric), which costs a look-up per host instead of a query per host: for
    /// an object that lists more hosts than the index has entries (a VirtualService with 150,000 hosts against a
    /// registry of a few hundred). Null when it lists fewer, or when the view adds another object of the index's kind
    /// (its hosts are not in the index): ask per host then. A host missing from the result matches nothing.</summary>
    internal Dictionary<string, List<HostMatch<T>>>? MatchesByHost<T>(HostIndex<T>? index, EgressObject subject, HostSet hosts)
        where T : EgressObject
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(hosts);
        if ((_added is T && !ReferenceEquals(_added, subject)) || hosts.Count <= ScanAtMost || (index is not null && hosts.Count <= index.Count))
        {
            return null;
        }

        _budget.ThrowIfCancellationRequested();
        var result = new Dictionary<string, List<HostMatch<T>>>(StringComparer.Ordinal);
        if (index is null)
        {
            return result;
        }

        var found = new List<string>();
        foreach (var m in index.Entries)
        {
            if (IsRemoved(m.Item) || m.Item.Key == subject.Key)
            {
                continue;
            }

            found.Clear();
            hosts.Query(m.Host, found);
            foreach (var h in found)
            {
                if (!result.TryGetValue(h, out var list))
                {
                    result[h] = list = [];
                }

                list.Add(m);
            }
        }

        return result;
    }

    private bool IsRemoved(EgressObject obj) => _removed is { } r && obj.Key == r;

    /// <summary>Which of the added object's host sets a query reads (each indexed once per view).</summary>
    private enum AddedHosts
    {
        Hosts,
        Destinations,
        SubsetDestinations,
    }

    private List<HostMatch<T>> Query<T>(HostIndex<T>? index, string host, Func<T, IEnumerable<string>> hostsOf, AddedHosts set = AddedHosts.Hosts)
        where T : EgressObject
    {
        _budget.ThrowIfCancellationRequested();
        var result = new List<HostMatch<T>>();
        index?.Query(host, result);
        if (_removed is { } r)
        {
            // a loop rather than RemoveAll: its predicate would capture the key, a closure per query
            for (var i = result.Count - 1; i >= 0; i--)
            {
                if (result[i].Item.Key == r)
                {
                    result.RemoveAt(i);
                }
            }
        }

        if (_added is T added)
        {
            ref var slot = ref set == AddedHosts.Destinations ? ref _addedDestinations
                : ref set == AddedHosts.SubsetDestinations ? ref _addedSubsetDestinations : ref _addedHosts;
            slot ??= IndexHosts(added, hostsOf);
            if (slot is HostSet own)
            {
                // one list reused by every query of the view (a view serves one check at a time)
                var hosts = _scratch ??= [];
                hosts.Clear();
                own.Query(host, hosts);
                foreach (var h in hosts)
                {
                    result.Add(new HostMatch<T>(added, h));
                }
            }
            else
            {
                foreach (var h in (string[])slot)
                {
                    if (HostName.Matches(h, host))
                    {
                        result.Add(new HostMatch<T>(added, h));
                    }
                }
            }
        }

        return result;
    }

    /// <summary>The distinct hosts of <paramref name="added"/>: as an array when there are few, else indexed.</summary>
    private static object IndexHosts<T>(T added, Func<T, IEnumerable<string>> hostsOf)
        where T : EgressObject
    {
        // a few hosts are deduplicated by a scan, more in one set, kept by the HostSet; the matches' order does not
        // depend on the set's (callers sort or group them)
        var few = new List<string>(ScanAtMost + 1);
        HashSet<string>? distinct = null;
        foreach (var h in hostsOf(added))
        {
            if (distinct is not null)
            {
                distinct.Add(h);
            }
            else if (!few.Contains(h))
            {
                few.Add(h);
                distinct = few.Count > ScanAtMost ? new HashSet<string>(few, StringComparer.Ordinal) : null;
            }
        }

        return distinct is null ? few.ToArray() : new HostSet(distinct);
    }
}
