using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Trace;

/// <summary>What a node of the egress map is.</summary>
public enum MapNodeKind
{
    Namespace,
    Gateway,
    Host,

    /// <summary>An ambient waypoint (a Gateway API Gateway of class <c>istio-waypoint</c>) crossed.</summary>
    Waypoint,
}

/// <summary>A node: a client namespace, a Gateway or waypoint crossed, or an external host.</summary>
/// <param name="Id">Stable id, <c>ns:default</c>, <c>gw:default/istio-egressgateway</c>, <c>wp:istio-egress/waypoint</c>,
/// <c>host:edition.cnn.com</c>.</param>
/// <param name="Kind">What it is.</param>
/// <param name="Label">What is shown.</param>
public sealed record MapNode(string Id, MapNodeKind Kind, string Label);

/// <summary>A link of a traced path.</summary>
/// <param name="From">Node id.</param>
/// <param name="To">Node id.</param>
/// <param name="Label"><c>host:port</c> on the first link of a path; the end (<c>external</c>, <c>passthrough</c>, …) on its last.</param>
/// <param name="End">How the path this link belongs to ends.</param>
/// <param name="Last">Whether it is the last link of its path.</param>
public sealed record MapEdge(string From, string To, string Label, TraceEnd End, bool Last)
{
    /// <summary>A link of a path that goes direct although it asks for a waypoint istiod would not bind (ambient).</summary>
    public bool Bypass { get; init; }

    /// <summary>A link of a path that loses the traffic (blackhole, dropped, loop) or bypasses its waypoint.</summary>
    public bool Broken => Bypass || End is TraceEnd.Blackhole or TraceEnd.Dropped or TraceEnd.Loop;
}

/// <summary>The egress map: for every external host the snapshot declares (ServiceEntry hosts) or routes from sidecars
/// (hosts of VirtualServices bound to <c>mesh</c>), the path traced from each namespace that declares or routes it: through
/// which gateways, direct, to PassthroughCluster, or broken. In ambient mode every namespace labelled
/// <c>istio.io/dataplane-mode=ambient</c> is a client of every entry it sees (ztunnel ignores <c>exportTo</c>; only
/// <c>serviceEntryVisibility</c> NAMESPACE/NONE hides an entry, <see cref="Waypoints.AmbientVisibilityOf"/>): its path goes
/// through the waypoint, or is drawn direct and broken when the entry asks for a waypoint istiod would not bind.</summary>
/// <param name="Nodes">In id order.</param>
/// <param name="Edges">Distinct, in (from, to, label) order.</param>
/// <param name="Traces">The traces the map is drawn from, by namespace and host.</param>
public sealed record EgressMap(IReadOnlyList<MapNode> Nodes, IReadOnlyList<MapEdge> Edges, IReadOnlyList<EgressTrace> Traces)
{
    /// <summary>At most this many paths are traced (each costs look-ups of the hosts on it), the rest left out.</summary>
    public const int MaxTraces = 10_000;

    /// <summary>Traces the map of <paramref name="snapshot"/>.</summary>
    public static EgressMap Build(EgressSnapshot snapshot, RuleSettings? settings = null, EgressTracer? tracer = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var context = new RuleContext(SnapshotView.Of(snapshot), settings ?? RuleSettings.Default);
        tracer ??= EgressTracer.Default;
        var clients = Clients(context, wildcards: false);
        var traces = new List<EgressTrace>();
        foreach (var (host, namespaces) in clients)
        {
            foreach (var ns in namespaces)
            {
                if (traces.Count < MaxTraces)
                {
                    traces.Add(tracer.Trace(context, ns, host));
                }
            }
        }

        var nodes = new SortedDictionary<string, MapNode>(StringComparer.Ordinal);
        var edges = new SortedDictionary<(string, string, string), MapEdge>();
        foreach (var t in traces)
        {
            var path = new List<MapNode> { Node(MapNodeKind.Namespace, t.From) };
            var viaKind = Waypoints.IsAmbientNamespace(context.View, t.From) ? MapNodeKind.Waypoint : MapNodeKind.Gateway;
            path.AddRange(t.Via.Select(g => Node(viaKind, g)));
            path.Add(Node(MapNodeKind.Host, t.Host));
            var bypass = t.BypassedWaypoint is { } skipped ? $", bypasses waypoint {skipped}" : "";
            for (var i = 0; i + 1 < path.Count; i++)
            {
                var last = i + 2 == path.Count;
                var label = last ? (i == 0 ? $"{t.Host}:{t.Port} {t.EndName}{bypass}" : t.EndName) : i == 0 ? $"{t.Host}:{t.Port}" : "";
                var edge = new MapEdge(path[i].Id, path[i + 1].Id, label, t.End, last) { Bypass = last && bypass.Length > 0 };
                edges.TryAdd((edge.From, edge.To, edge.Label), edge);
            }
        }

        return new EgressMap([.. nodes.Values], [.. edges.Values], traces);

        MapNode Node(MapNodeKind kind, string name)
        {
            var id = kind switch
            {
                MapNodeKind.Namespace => "ns:" + name,
                MapNodeKind.Gateway => "gw:" + name,
                MapNodeKind.Waypoint => "wp:" + name,
                _ => "host:" + name,
            };
            if (!nodes.TryGetValue(id, out var node))
            {
                nodes[id] = node = new MapNode(id, kind, kind switch { MapNodeKind.Gateway => "Gateway " + name, MapNodeKind.Waypoint => "waypoint " + name, _ => name });
            }

            return node;
        }
    }

    /// <summary>Which namespaces ask for which external host: the MESH_EXTERNAL ServiceEntry's namespace (and, in ambient
    /// mode, every ambient namespace that sees it) and every namespace with a mesh route for it; cluster-local names, IPs
    /// and overlong names left out, and wildcard hosts too unless <paramref name="wildcards"/>.</summary>
    internal static SortedDictionary<string, SortedSet<string>> Clients(RuleContext context, bool wildcards)
    {
        var clients = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var ambient = Waypoints.AmbientNamespaces(context.View);
        foreach (var se in context.View.OfKind<ServiceEntry>(ResourceKind.ServiceEntry))
        {
            if (se.Spec.EffectiveLocation == Locations.MeshExternal)
            {
                var seenBy = ambient.Count == 0 ? [] : AmbientClients(se, ambient, context).ToList();
                foreach (var h in EgressSnapshot.HostsOf(se))
                {
                    Add(h, se.Namespace);
                    foreach (var ns in seenBy)
                    {
                        Add(h, ns);
                    }
                }
            }
        }

        foreach (var vs in context.View.VirtualServicesBoundTo(GatewayRefs.Mesh))
        {
            foreach (var h in EgressSnapshot.HostsOf(vs))
            {
                Add(h, vs.Namespace);
            }
        }

        return clients;

        void Add(string host, string ns)
        {
            if ((!wildcards && HostName.IsWildcard(host)) || HostName.IsClusterLocal(host) || ServiceRegistry.IsIpOrCidr(host) || HostName.IsOverlong(host))
            {
                return;
            }

            if (!clients.TryGetValue(host, out var set))
            {
                clients[host] = set = new SortedSet<string>(StringComparer.Ordinal);
            }

            set.Add(ns);
        }
    }

    /// <summary>The ambient namespaces whose ztunnel uses <paramref name="se"/>: every one for a PUBLIC entry, its own for a
    /// NAMESPACE-visible one, none for NONE (<c>meshConfig.serviceEntryVisibility</c>, Istio 1.31).</summary>
    private static IEnumerable<string> AmbientClients(ServiceEntry se, List<string> ambient, RuleContext context) =>
        Waypoints.AmbientVisibilityOf(se, context.View) switch
        {
            ServiceEntryVisibilities.Public => ambient,
            ServiceEntryVisibilities.Namespace => ambient.Where(ns => ns == se.Namespace),
            _ => [],
        };
}
