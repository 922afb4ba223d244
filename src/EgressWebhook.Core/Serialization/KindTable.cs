using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Serialization;

/// <summary>How the cluster source watches a kind.</summary>
public enum KindWatch
{
    /// <summary>Not watched (read from files only, e.g. an IstioOperator).</summary>
    None,

    /// <summary>Listed and watched in every namespace; the server cannot work without it.</summary>
    AllNamespaces,

    /// <summary>Listed and watched in the mesh (Istio root) namespace only: the mesh ConfigMaps.</summary>
    MeshNamespace,

    /// <summary>Watched when the API server serves it at one of <see cref="KindDescriptor.Versions"/> (optional CRDs).</summary>
    IfServed,
}

/// <summary>One Kubernetes kind the engine reads: where it lives in the API, the model it decodes to, and how.</summary>
/// <param name="Kind">The model kind its objects decode to (several rows may share one: ConfigMap and IstioOperator are both mesh config).</param>
/// <param name="Group">API group; <c>""</c> for the core group (<c>apiVersion: v1</c>).</param>
/// <param name="Versions">Served versions with the same schema, most preferred first; the first is written.</param>
/// <param name="KindName">The Kubernetes <c>kind</c>.</param>
/// <param name="Plural">The resource name in API URLs and RBAC rules.</param>
/// <param name="Namespaced">Whether objects have a namespace.</param>
/// <param name="Watch">How the cluster source watches it.</param>
/// <param name="ModelType">The model type <see cref="Decode"/> returns.</param>
/// <param name="Decode">The object (its <c>apiVersion</c> and <c>kind</c> matched this row) to the model; null when it holds nothing the rules read.</param>
/// <param name="Write">The model as JSON for <see cref="ManifestWriter"/>; null when the kind is not written.</param>
public sealed record KindDescriptor(
    ResourceKind Kind,
    string Group,
    IReadOnlyList<string> Versions,
    string KindName,
    string Plural,
    bool Namespaced,
    KindWatch Watch,
    Type ModelType,
    Func<JsonElement, EgressObject?> Decode,
    Func<EgressObject, JsonNode?>? Write)
{
    /// <summary><c>v1</c> or <c>networking.istio.io/v1</c>: the preferred version.</summary>
    public string PreferredApiVersion => ApiVersion(Versions[0]);

    /// <summary><c>v1</c> or <c>networking.istio.io/<paramref name="version"/></c>.</summary>
    public string ApiVersion(string version) => Group.Length == 0 ? version : $"{Group}/{version}";
}

/// <summary>Every kind the engine reads, one row each: the decoder (<see cref="ObjectDecoder"/>), the manifest writer
/// (<see cref="ManifestWriter"/>), the cluster source and the RBAC tests read this table.</summary>
/// <remarks>A new kind is one row here plus its model (a record deriving <see cref="EgressObject"/>, its
/// <see cref="ResourceKind"/> and its <see cref="EgressJsonContext"/> entry); see docs/architecture.md.</remarks>
public static class KindTable
{
    public const string IstioGroup = "networking.istio.io";

    /// <summary>Versions of <see cref="IstioGroup"/> with the same schema, most preferred first.</summary>
    public static IReadOnlyList<string> IstioVersions { get; } = ["v1", "v1beta1", "v1alpha3"];

    /// <summary>Versions of the Gateway API group to look for a route kind in, most preferred first.</summary>
    public static IReadOnlyList<string> GatewayApiVersions { get; } = ["v1", "v1beta1", "v1alpha3", "v1alpha2"];

    /// <summary>Versions of <c>security.istio.io</c> with the same schema, most preferred first (declared before
    /// <see cref="All"/>, which reads it while the type initialises).</summary>
    public static IReadOnlyList<string> SecurityVersions { get; } = ["v1", "v1beta1"];

    private static readonly IReadOnlyList<string> CoreV1 = ["v1"];

    public static IReadOnlyList<KindDescriptor> All { get; } = Build();

    private static List<KindDescriptor> Build()
    {
        var ctx = EgressJsonContext.Default;
        List<KindDescriptor> rows =
        [
            Row(ResourceKind.ServiceEntry, IstioGroup, IstioVersions, "ServiceEntry", "serviceentries", ctx.ServiceEntry),
            Row(ResourceKind.Gateway, IstioGroup, IstioVersions, "Gateway", "gateways", ctx.Gateway),
            Row(ResourceKind.VirtualService, IstioGroup, IstioVersions, "VirtualService", "virtualservices", ctx.VirtualService),
            Row(ResourceKind.DestinationRule, IstioGroup, IstioVersions, "DestinationRule", "destinationrules", ctx.DestinationRule),
            Row(ResourceKind.Sidecar, IstioGroup, IstioVersions, "Sidecar", "sidecars", ctx.Sidecar),
            Row(ResourceKind.Service, "", CoreV1, "Service", "services", ctx.Service),
            Row(ResourceKind.Namespace, "", CoreV1, "Namespace", "namespaces", ctx.Namespace, namespaced: false),
            // Only the mesh namespace: the webhook needs istio and istio-<rev>, not every ConfigMap of the cluster.
            new(ResourceKind.MeshConfig, "", CoreV1, "ConfigMap", "configmaps", true, KindWatch.MeshNamespace, typeof(MeshConfig), ObjectDecoder.DecodeMeshConfigMap, null),
            new(ResourceKind.MeshConfig, "install.istio.io", ["v1alpha1"], "IstioOperator", "istiooperators", true, KindWatch.None, typeof(MeshConfig), ObjectDecoder.DecodeIstioOperator, null),
        ];

        // the Gateway API route kinds the mutation reads (a ServiceEntry named in a route's parentRefs gets no generated routing, EGW404)
        foreach (var (kind, plural) in (ReadOnlySpan<(string, string)>)[("HTTPRoute", "httproutes"), ("GRPCRoute", "grpcroutes"), ("TLSRoute", "tlsroutes"), ("TCPRoute", "tcproutes")])
        {
            rows.Add(Row(ResourceKind.GatewayApiRoute, GatewayApiRoute.Group, GatewayApiVersions, kind, plural, ctx.GatewayApiRoute, watch: KindWatch.IfServed, written: false));
        }

        // ambient waypoints and Gateway API egress (issue 17): read when the cluster serves them, never written
        rows.Add(Row(ResourceKind.GatewayApiGateway, GatewayApiGateway.Group, GatewayApiVersions, "Gateway", "gateways", ctx.GatewayApiGateway, watch: KindWatch.IfServed, written: false));
        rows.Add(Row(ResourceKind.ReferenceGrant, GatewayApiRoute.Group, GatewayApiVersions, "ReferenceGrant", "referencegrants", ctx.ReferenceGrant, watch: KindWatch.IfServed, written: false));
        rows.Add(Row(ResourceKind.AuthorizationPolicy, AuthorizationPolicy.Group, SecurityVersions, "AuthorizationPolicy", "authorizationpolicies", ctx.AuthorizationPolicy, watch: KindWatch.IfServed, written: false));

        // the project's own policy kind: watched when its CRD is installed (deploy/crds/egresspolicy.yaml)
        rows.Add(Row(ResourceKind.EgressPolicy, EgressPolicy.Group, [EgressPolicy.Version], "EgressPolicy", "egresspolicies", ctx.EgressPolicy,
            namespaced: false, watch: KindWatch.IfServed, written: false));
        return rows;
    }

    /// <summary>A row whose objects decode (and, when <paramref name="written"/>, write) through <paramref name="type"/>.</summary>
    private static KindDescriptor Row<T>(ResourceKind kind, string group, IReadOnlyList<string> versions, string kindName, string plural, JsonTypeInfo<T> type,
        bool namespaced = true, KindWatch watch = KindWatch.AllNamespaces, bool written = true)
        where T : EgressObject =>
        new(kind, group, versions, kindName, plural, namespaced, watch, typeof(T),
            json => ObjectDecoder.Deserialize(json, type),
            written ? obj => JsonSerializer.SerializeToNode((T)obj, type) : null);

    /// <summary>The row of <paramref name="apiVersion"/>/<paramref name="kind"/>, or null for a kind the engine does not read.
    /// Any version of a non-core group matches (a DELETE of an unknown version still decodes); the core group is <c>v1</c> only.</summary>
    public static KindDescriptor? Find(string apiVersion, string kind)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? "" : apiVersion[..slash];
        foreach (var row in All)
        {
            if (row.KindName == kind && row.Group == group && (group.Length > 0 || row.Versions.Contains(apiVersion)))
            {
                return row;
            }
        }

        return null;
    }

    /// <summary>The row that writes <paramref name="kind"/>, or null when the kind is not written.</summary>
    public static KindDescriptor? Writer(ResourceKind kind) => All.FirstOrDefault(r => r.Kind == kind && r.Write is not null);

    /// <summary>The rows the cluster source watches in the given way.</summary>
    public static IEnumerable<KindDescriptor> Watched(KindWatch watch) => All.Where(r => r.Watch == watch);
}
