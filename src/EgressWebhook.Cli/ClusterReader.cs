using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Server.Cluster;
using k8s;
using k8s.Exceptions;

namespace EgressWebhook.Cli;

/// <summary>Reads the kinds of <see cref="KindTable"/> from a cluster, read-only, at the versions it serves: the Istio
/// kinds at the first served version of <see cref="KindTable.IstioVersions"/>, the mesh ConfigMaps of the root
/// namespace, and the optional kinds the cluster serves (Gateway API routes, EgressPolicy). Items go through Core's one decode path.</summary>
internal static class ClusterReader
{
    private const int PageSize = 500;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static IReadOnlyList<EgressObject> Read(string kubeconfig, string? context)
    {
        try
        {
            return ReadAsync(kubeconfig, context, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is KubeConfigException or KubernetesApiException or HttpRequestException or RequestTimedOutException
                                       or IOException or UnauthorizedAccessException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new InputException($"{kubeconfig}: {OneLine(ex.Message)}");
        }
    }

    private static async Task<IReadOnlyList<EgressObject>> ReadAsync(string kubeconfig, string? context, CancellationToken cancellationToken)
    {
        if (!File.Exists(kubeconfig))
        {
            throw new InputException($"{kubeconfig}: no such file");
        }

        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig, context);
        using var client = new Kubernetes(config);
        var api = new KubernetesApi(client, TimeProvider.System);
        var istio = ClusterResource.PickIstioVersion(await api.ServedVersionsAsync(ClusterResource.IstioGroup, cancellationToken))
                    ?? throw new InputException($"{kubeconfig}: the cluster serves no {ClusterResource.IstioGroup} version ({string.Join(", ", KindTable.IstioVersions)}): is Istio installed?");
        var resources = ClusterResource.All(istio, MeshConfig.DefaultRootNamespace).ToList();
        foreach (var group in ClusterResource.OptionalGroups)
        {
            var byVersion = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
            foreach (var version in ClusterResource.OptionalVersions(group, await api.ServedVersionsAsync(group, cancellationToken)))
            {
                byVersion[version] = await api.ServedResourcesAsync(group, version, cancellationToken);
            }

            resources.AddRange(ClusterResource.Optional(group, byVersion));
        }

        var objects = new List<EgressObject>();
        foreach (var resource in resources)
        {
            await api.ListAsync(resource, PageSize, item =>
            {
                // an object the decoder cannot read is skipped, as the webhook's cache skips it
                try
                {
                    if (ObjectDecoder.Decode(item, "default") is { } obj && obj.ResourceKind == resource.Kind)
                    {
                        objects.Add(obj);
                    }
                }
                catch (DecodeException)
                {
                }
            }, cancellationToken, RequestTimeout);
        }

        return objects;
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
