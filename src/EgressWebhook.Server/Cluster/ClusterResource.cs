using EgressWebhook.Core.Model;

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
    public const string IstioGroup = "networking.istio.io";

    /// <summary>Versions of <see cref="IstioGroup"/> with the same schema, most preferred first.</summary>
    public static IReadOnlyList<string> IstioVersions { get; } = ["v1", "v1beta1", "v1alpha3"];

    private string Prefix => ApiVersion == "v1" ? "api/v1" : $"apis/{ApiVersion}";

    /// <summary>Relative URL of the list/watch collection.</summary>
    public string CollectionPath => Namespace is null ? $"{Prefix}/{Plural}" : $"{Prefix}/namespaces/{Namespace}/{Plural}";

    /// <summary>Relative URL of one object.</summary>
    public string ItemPath(string ns, string name) => Namespaced
        ? $"{Prefix}/namespaces/{Uri.EscapeDataString(ns)}/{Plural}/{Uri.EscapeDataString(name)}"
        : $"{Prefix}/{Plural}/{Uri.EscapeDataString(name)}";

    /// <summary>Every resource the rules read, with the Istio kinds at <paramref name="istioVersion"/>.</summary>
    public static IReadOnlyList<ClusterResource> All(string istioVersion, string meshNamespace)
    {
        var istio = $"{IstioGroup}/{istioVersion}";
        return
        [
            new(ResourceKind.ServiceEntry, istio, "ServiceEntry", "serviceentries", null, true),
            new(ResourceKind.Gateway, istio, "Gateway", "gateways", null, true),
            new(ResourceKind.VirtualService, istio, "VirtualService", "virtualservices", null, true),
            new(ResourceKind.DestinationRule, istio, "DestinationRule", "destinationrules", null, true),
            new(ResourceKind.Sidecar, istio, "Sidecar", "sidecars", null, true),
            new(ResourceKind.Service, "v1", "Service", "services", null, true),
            new(ResourceKind.Namespace, "v1", "Namespace", "namespaces", null, false),
            // Only the mesh namespace: the webhook needs istio and istio-<rev>, not every ConfigMap of the cluster.
            new(ResourceKind.MeshConfig, "v1", "ConfigMap", "configmaps", meshNamespace, true),
        ];
    }

    public const string GatewayApiGroup = GatewayApiRoute.Group;

    /// <summary>Versions of <see cref="GatewayApiGroup"/> to look for a route kind in, most preferred first.</summary>
    public static IReadOnlyList<string> GatewayApiVersions { get; } = ["v1", "v1beta1", "v1alpha3", "v1alpha2"];

    /// <summary>The Gateway API route kinds the mutation reads (a ServiceEntry named in a route's parentRefs gets no
    /// generated routing, EGW404), with their resource names.</summary>
    public static IReadOnlyList<(string Kind, string Plural)> GatewayApiRouteKinds { get; } =
        [("HTTPRoute", "httproutes"), ("GRPCRoute", "grpcroutes"), ("TLSRoute", "tlsroutes"), ("TCPRoute", "tcproutes")];

    /// <summary>For each route kind, the first of <see cref="GatewayApiVersions"/> whose resource list has it; kinds
    /// the cluster does not serve (or a cluster without the Gateway API) are left out.</summary>
    public static IReadOnlyList<ClusterResource> GatewayApiRoutes(IReadOnlyDictionary<string, IReadOnlyCollection<string>> resourcesByVersion) =>
        GatewayApiRouteKinds
            .Select(k => GatewayApiVersions.FirstOrDefault(v => resourcesByVersion.TryGetValue(v, out var served) && served.Contains(k.Plural)) is { } version
                ? new ClusterResource(ResourceKind.GatewayApiRoute, $"{GatewayApiGroup}/{version}", k.Kind, k.Plural, null, true)
                : null)
            .OfType<ClusterResource>()
            .ToList();

    /// <summary>The served version to use: the first of <see cref="IstioVersions"/> the API server lists, or null.</summary>
    public static string? PickIstioVersion(IEnumerable<string> served)
    {
        var set = served.ToHashSet(StringComparer.Ordinal);
        return IstioVersions.FirstOrDefault(set.Contains);
    }
}
