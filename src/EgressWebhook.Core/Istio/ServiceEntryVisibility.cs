using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Istio;

/// <summary>Istio 1.31's <c>meshConfig.serviceEntryVisibility</c>, read once here for the rules, the map and the trace: a
/// mesh-wide ceiling on which namespaces see a ServiceEntry (Istio docs, "ServiceEntry visibility").</summary>
/// <remarks>The visibility of an entry is that of the first policy whose <c>matchingRules</c> all match the labels of the
/// entry's namespace, else <c>defaultVisibility</c>; unset (or <c>VISIBILITY_UNSPECIFIED</c>) is PUBLIC. PUBLIC: every
/// namespace (exportTo still applies for Envoy proxies); NAMESPACE: the entry's own namespace only; NONE: no namespace.
/// The ambient data plane (ztunnel, waypoints) always honours it; Envoy sidecars and gateways only with
/// <c>applyToSidecars: true</c>. A client that cannot see an entry does not match its traffic by it: its DNS goes upstream
/// and the connection is unregistered, so it passes through (or, for a REGISTRY_ONLY sidecar, is dropped).</remarks>
internal static class ServiceEntryVisibility
{
    /// <summary>The visibility of <paramref name="entry"/> as the ambient data plane sees it (the policies always apply).</summary>
    public static string Of(ServiceEntry entry, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        return view.Mesh.ServiceEntryVisibility is { } sev ? Resolve(sev, view.NamespaceLabels(entry.Namespace)) : ServiceEntryVisibilities.Public;
    }

    /// <summary>The visibility of <paramref name="entry"/> as Envoy sidecars and gateways see it: <see cref="Of"/> with
    /// <c>applyToSidecars: true</c>, else PUBLIC (exportTo alone decides).</summary>
    public static string ForSidecars(ServiceEntry entry, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        return view.Mesh.ServiceEntryVisibility is { ApplyToSidecars: true } sev
            ? Resolve(sev, view.NamespaceLabels(entry.Namespace))
            : ServiceEntryVisibilities.Public;
    }

    /// <summary>The mesh-config field that decides <see cref="Of"/> for <paramref name="entry"/>:
    /// <c>serviceEntryVisibility.policies[i].visibility</c> of the first matching policy, else
    /// <c>serviceEntryVisibility.defaultVisibility</c>; null without <c>serviceEntryVisibility</c>.</summary>
    public static string? Field(ServiceEntry entry, SnapshotView view)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        if (view.Mesh.ServiceEntryVisibility is not { } sev)
        {
            return null;
        }

        var i = Matching(sev, view.NamespaceLabels(entry.Namespace));
        return i >= 0 ? $"serviceEntryVisibility.policies[{i}].visibility" : "serviceEntryVisibility.defaultVisibility";
    }

    /// <summary>Whether an entry of namespace <paramref name="entryNamespace"/> with <paramref name="visibility"/> is seen
    /// from <paramref name="clientNamespace"/>.</summary>
    public static bool Allows(string visibility, string entryNamespace, string clientNamespace) => visibility switch
    {
        ServiceEntryVisibilities.None => false,
        ServiceEntryVisibilities.Namespace => entryNamespace == clientNamespace,
        _ => true,
    };

    private static string Resolve(ServiceEntryVisibilityConfig sev, IReadOnlyDictionary<string, string> namespaceLabels) =>
        Matching(sev, namespaceLabels) is var i and >= 0 ? Normalize(sev.Policies[i].Visibility) : Normalize(sev.DefaultVisibility);

    /// <summary>The index of the first policy whose rules all match the labels (an empty rule list matches all), or -1.</summary>
    private static int Matching(ServiceEntryVisibilityConfig sev, IReadOnlyDictionary<string, string> namespaceLabels)
    {
        for (var i = 0; i < sev.Policies.Count; i++)
        {
            if (sev.Policies[i] is { } policy && policy.MatchingRules.All(r => r?.NamespaceSelector is { } sel && sel.Matches(namespaceLabels)))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Normalize(string? v) => v is ServiceEntryVisibilities.Namespace or ServiceEntryVisibilities.None ? v : ServiceEntryVisibilities.Public;
}
