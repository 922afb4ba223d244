using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Server.Cluster;

/// <summary>One resource the cache lists and watches: where it lives in the API and how its objects are typed.</summary>
/// <param name="Kind">The model kind its objects decode to.</param>
/// <param name="ApiVersion"><c>v1</c> or <c>networking.istio.io/v1</c>.</param>
/// <param name="KindName">The Kubernetes kind (<c>ConfigMap</c> for the mesh config), also the metrics label.</param>
/// <param name="Plural">The resource name in URLs.</param>
/// <param name="Namespace">Watch only this namespace (the mesh ConfigMaps); null = all namespaces.</param>
/// <param name="Namespaced">Whether objects have a namespace (false for Namespace).</param>
internal sealed record ClusterResource(ResourceKind Kind, string ApiVersion, string KindName, string Plural, string? Namespace, bool Namespaced)
{
    public const string IstioGroup = KindTable.IstioGroup;

    /// <summary>Versions of <see cref="IstioGroup"/> with the same schema, most preferred first.</summary>
    public static IReadOnlyList<string> IstioVersions => KindTable.IstioVersions;

    private string Prefix => ApiVersion == "v1" ? "api/v1" : $"apis/{ApiVersion}";

    /// <summary>Relative URL of the list/watch collection.</summary>
    public string CollectionPath => Namespace is null ? $"{Prefix}/{Plural}" : $"{Prefix}/namespaces/{Namespace}/{Plural}";

    /// <summary>Relative URL of one object.</summary>
    public string ItemPath(string ns, string name) => Namespaced
        ? $"{Prefix}/namespaces/{Uri.EscapeDataString(ns)}/{Plural}/{Uri.EscapeDataString(name)}"
        : $"{Prefix}/{Plural}/{Uri.EscapeDataString(name)}";

    /// <summary>Every resource the rules cannot work without (<see cref="KindTable"/> rows watched in all namespaces or
    /// in the mesh namespace), with the Istio kinds at <paramref name="istioVersion"/>.</summary>
    public static IReadOnlyList<ClusterResource> All(string istioVersion, string meshNamespace) =>
        KindTable.All
            .Where(r => r.Watch is KindWatch.AllNamespaces or KindWatch.MeshNamespace)
            .Select(r => new ClusterResource(r.Kind, r.ApiVersion(r.Group == IstioGroup ? istioVersion : r.Versions[0]), r.KindName, r.Plural,
                r.Watch == KindWatch.MeshNamespace ? meshNamespace : null, r.Namespaced))
            .ToList();

    public const string GatewayApiGroup = GatewayApiRoute.Group;

    /// <summary>Versions of <see cref="GatewayApiGroup"/> to look for a route kind in, most preferred first.</summary>
    public static IReadOnlyList<string> GatewayApiVersions => KindTable.GatewayApiVersions;

    /// <summary>For each route kind, the first of <see cref="GatewayApiVersions"/> whose resource list has it; kinds
    /// the cluster does not serve (or a cluster without the Gateway API) are left out.</summary>
    public static IReadOnlyList<ClusterResource> GatewayApiRoutes(IReadOnlyDictionary<string, IReadOnlyCollection<string>> resourcesByVersion) =>
        Optional(GatewayApiGroup, resourcesByVersion);

    /// <summary>The API groups of the optional kinds (<see cref="KindWatch.IfServed"/>: the Gateway API routes, the
    /// project's EgressPolicy), each discovered on its own.</summary>
    public static IReadOnlyList<string> OptionalGroups { get; } =
        [.. KindTable.Watched(KindWatch.IfServed).Select(r => r.Group).Distinct(StringComparer.Ordinal)];

    /// <summary>For each optional kind of <paramref name="group"/>, the first of its versions whose resource list
    /// (<paramref name="resourcesByVersion"/>, version to plurals) has it; kinds the cluster does not serve are left out.</summary>
    public static IReadOnlyList<ClusterResource> Optional(string group, IReadOnlyDictionary<string, IReadOnlyCollection<string>> resourcesByVersion) =>
        KindTable.Watched(KindWatch.IfServed).Where(r => r.Group == group)
            .Select(r => r.Versions.FirstOrDefault(v => resourcesByVersion.TryGetValue(v, out var served) && served.Contains(r.Plural)) is { } version
                ? new ClusterResource(r.Kind, r.ApiVersion(version), r.KindName, r.Plural, null, r.Namespaced)
                : null)
            .OfType<ClusterResource>()
            .ToList();

    /// <summary>The versions to ask the resource lists of for <paramref name="group"/>: those of its optional kinds
    /// that <paramref name="served"/> lists.</summary>
    public static IEnumerable<string> OptionalVersions(string group, IEnumerable<string> served)
    {
        var set = served.ToHashSet(StringComparer.Ordinal);
        return KindTable.Watched(KindWatch.IfServed).Where(r => r.Group == group).SelectMany(r => r.Versions)
            .Distinct(StringComparer.Ordinal).Where(set.Contains);
    }

    /// <summary>The served version to use: the first of <see cref="IstioVersions"/> the API server lists, or null.</summary>
    public static string? PickIstioVersion(IEnumerable<string> served)
    {
        var set = served.ToHashSet(StringComparer.Ordinal);
        return IstioVersions.FirstOrDefault(set.Contains);
    }
}
