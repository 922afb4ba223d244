using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Istio;

/// <summary>Where a waypoint binding comes from: the object's own label, or its namespace's.</summary>
internal enum WaypointSource
{
    Object,
    Namespace,
}

/// <summary>The waypoint an object asks for: <c>istio.io/use-waypoint</c> (and <c>istio.io/use-waypoint-namespace</c>).</summary>
/// <param name="Namespace">The waypoint's namespace: the override label, else the object's own namespace.</param>
/// <param name="Name">The waypoint Gateway's name.</param>
/// <param name="Source">Whose label named it.</param>
internal sealed record WaypointBinding(string Namespace, string Name, WaypointSource Source)
{
    /// <summary>The path findings about the binding point at on the bound object.</summary>
    public string Path => Source == WaypointSource.Object ? $"metadata.labels[{AmbientLabels.UseWaypoint}]" : "metadata.namespace";

    /// <summary><c>ns/name</c>.</summary>
    public string Display => $"{Namespace}/{Name}";

    /// <summary><c>label</c> or <c>namespace ns's label</c>, for messages.</summary>
    public string Origin(string objectNamespace) => Source == WaypointSource.Object ? "its label" : $"label of namespace {objectNamespace}";
}

/// <summary>Istio's ambient waypoint semantics, read once here for every rule (istio/istio
/// <c>pilot/pkg/serviceregistry/kube/controller/ambient/waypoints.go</c>).</summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>getUseWaypoint</c>: the object's <c>istio.io/use-waypoint</c> label names the waypoint; the value <c>none</c>
/// opts out (also of the namespace's waypoint); <c>istio.io/use-waypoint-namespace</c> next to it names the namespace, else the
/// object's own. Only without a label of its own does the object take its Namespace's labels (read the same way, the
/// fallback namespace still being the object's).</item>
/// <item><c>fetchWaypointForTarget</c>: the named waypoint must exist (with an address), else the binding fails with
/// <c>WaypointIsNotReady</c> and traffic goes direct; its listener must admit the object's namespace, else
/// <c>AttachmentDenied</c>.</item>
/// <item><c>fetchWaypointForService</c> (ServiceEntries are services): the waypoint's traffic type, <c>istio.io/waypoint-for</c>
/// (default <c>service</c>), must be <c>service</c> or <c>all</c>, else <c>UnsupportedTrafficType</c>.</item>
/// <item><c>makeAllowedRoutes</c>: attachment is governed by the HBONE listener on port 15008 (unset <c>allowedRoutes</c>:
/// <c>Same</c>); a waypoint without one admits its own namespace only.</item>
/// </list>
/// </remarks>
internal static class Waypoints
{
    /// <summary>The HBONE port of a waypoint's mesh listener.</summary>
    public const int HbonePort = 15008;

    /// <summary>The waypoint <paramref name="obj"/> asks for, or null (no label anywhere, or opted out with <c>none</c>).</summary>
    public static WaypointBinding? BindingOf(EgressObject obj, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(view);
        if (Read(obj.Metadata.Labels, obj.Namespace, WaypointSource.Object, out var own))
        {
            return own;
        }

        var ns = view.Find(new ObjectKey(ResourceKind.Namespace, "", obj.Namespace));
        return ns is not null && Read(ns.Metadata.Labels, obj.Namespace, WaypointSource.Namespace, out var inherited) ? inherited : null;
    }

    /// <summary>Whether <paramref name="obj"/> opts out of any waypoint (<c>istio.io/use-waypoint: none</c>).</summary>
    public static bool OptsOut(EgressObject obj) =>
        obj.Metadata.Labels.TryGetValue(AmbientLabels.UseWaypoint, out var v) && v == AmbientLabels.None;

    private static bool Read(IReadOnlyDictionary<string, string> labels, string fallbackNamespace, WaypointSource source, out WaypointBinding? binding)
    {
        binding = null;
        if (!labels.TryGetValue(AmbientLabels.UseWaypoint, out var name))
        {
            return false;
        }

        if (name != AmbientLabels.None && name.Length > 0)
        {
            var ns = labels.TryGetValue(AmbientLabels.UseWaypointNamespace, out var o) && o.Length > 0 ? o : fallbackNamespace;
            binding = new WaypointBinding(ns, name, source);
        }

        return true;
    }

    /// <summary>The Gateway API Gateway the binding names, or null.</summary>
    public static GatewayApiGateway? Find(SnapshotView view, WaypointBinding binding) =>
        view.Find(new ObjectKey(ResourceKind.GatewayApiGateway, binding.Namespace, binding.Name)) as GatewayApiGateway;

    /// <summary>The traffic type a waypoint serves: its <c>istio.io/waypoint-for</c> label, else <c>service</c>.</summary>
    public static string TrafficType(GatewayApiGateway waypoint) =>
        waypoint.Metadata.Labels.TryGetValue(AmbientLabels.WaypointFor, out var t) && t.Length > 0 ? t : AmbientLabels.ServiceTraffic;

    /// <summary>Whether the waypoint serves service-addressed traffic (a ServiceEntry's).</summary>
    public static bool ServesServices(GatewayApiGateway waypoint) => TrafficType(waypoint) is AmbientLabels.ServiceTraffic or AmbientLabels.AllTraffic;

    /// <summary>The listener whose <c>allowedRoutes</c> governs attachment: HBONE on 15008, else none (<c>Same</c>).</summary>
    public static GatewayListener? AttachmentListener(GatewayApiGateway waypoint) =>
        waypoint.Spec.Listeners.FirstOrDefault(l => string.Equals(l.Protocol, "HBONE", StringComparison.Ordinal) && l.Port == HbonePort);

    /// <summary>Whether the waypoint admits objects of namespace <paramref name="ns"/> (Istio's <c>AllowsAttachmentFromNamespace</c>).</summary>
    public static bool AllowsAttachment(GatewayApiGateway waypoint, string ns, SnapshotView view) =>
        Admits(AttachmentListener(waypoint)?.AllowedRoutes?.Namespaces, waypoint.Namespace, ns, view);

    /// <summary>Gateway API <c>allowedRoutes.namespaces</c>: <c>Same</c> (unset) = the Gateway's namespace, <c>All</c>, or
    /// <c>Selector</c> over the labels of <paramref name="ns"/>. Unknown values admit the Gateway's namespace only.</summary>
    public static bool Admits(RouteNamespaces? namespaces, string gatewayNamespace, string ns, SnapshotView view) =>
        (namespaces?.From ?? FromNamespaces.Same) switch
        {
            FromNamespaces.All => true,
            FromNamespaces.Selector => namespaces?.Selector is { } sel && sel.Matches(view.NamespaceLabels(ns)),
            _ => gatewayNamespace == ns,
        };

    /// <summary>How an <c>allowedRoutes.namespaces</c> reads in a message.</summary>
    public static string Describe(RouteNamespaces? namespaces) => (namespaces?.From ?? FromNamespaces.Same) switch
    {
        FromNamespaces.All => "All",
        FromNamespaces.Selector => "a Selector",
        FromNamespaces.Same when namespaces?.From is null => "Same (unset)",
        var other => other,
    };

    /// <summary>Whether namespace <paramref name="ns"/> runs ambient: its Namespace is labelled <c>istio.io/dataplane-mode=ambient</c>.</summary>
    public static bool IsAmbientNamespace(SnapshotView view, string ns) =>
        view.Find(new ObjectKey(ResourceKind.Namespace, "", ns)) is { } n && IsAmbient(n);

    private static bool IsAmbient(EgressObject ns) =>
        ns.Metadata.Labels.TryGetValue(AmbientLabels.DataplaneMode, out var m) && m == AmbientLabels.Ambient;

    /// <summary>The namespaces of the view labelled ambient, by name.</summary>
    public static List<string> AmbientNamespaces(SnapshotView view) =>
        [.. view.OfKind<Namespace>(ResourceKind.Namespace).Where(IsAmbient).Select(n => n.Name).Order(StringComparer.Ordinal)];

    /// <summary>The visibility <c>meshConfig.serviceEntryVisibility</c> (Istio 1.31) gives <paramref name="entry"/> in the ambient
    /// data plane, which always honours it (<c>applyToSidecars</c> only extends it to Envoy sidecars and gateways): the
    /// first policy whose rules all match the labels of the entry's namespace, else the default; PUBLIC when unset
    /// (<see cref="ServiceEntryVisibility.Of"/>).</summary>
    public static string AmbientVisibilityOf(ServiceEntry entry, SnapshotView view) => ServiceEntryVisibility.Of(entry, view);

    /// <summary>The ServiceEntries of the view whose binding names <paramref name="waypoint"/> (for re-checking them when it changes).</summary>
    public static IEnumerable<ServiceEntry> EntriesBoundTo(SnapshotView view, ObjectKey waypoint) =>
        view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry)
            .Where(se => BindingOf(se, view) is { } b && b.Namespace == waypoint.Namespace && b.Name == waypoint.Name);
}
