using System.Collections.Concurrent;
using System.Text.Json;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Deploy.Tests.Infrastructure;

/// <summary>One rendered Kubernetes object.</summary>
public sealed record K8sObject(JsonElement Json)
{
    public string Kind => Json.Str("kind") ?? "";

    public string ApiVersion => Json.Str("apiVersion") ?? "";

    /// <summary>The API group ("" for the core group).</summary>
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";

    public string Name => Json.Str("metadata", "name") ?? "";

    /// <summary>The namespace, or null for a cluster-scoped object (or one the overlay left without).</summary>
    public string? Namespace => Json.Str("metadata", "namespace");

    public JsonElement Spec => Json.At("spec") ?? default;

    public override string ToString() => $"{Kind} {(Namespace is null ? "" : Namespace + "/")}{Name}";
}

/// <summary>The objects of one kustomization, rendered by <c>kubectl kustomize</c> (cached per directory).</summary>
public sealed class Rendered
{
    private static readonly ConcurrentDictionary<string, Lazy<Rendered>> Cache = new(StringComparer.Ordinal);

    private Rendered(string directory, IReadOnlyList<K8sObject> objects)
    {
        Directory = directory;
        Objects = objects;
    }

    public string Directory { get; }

    public IReadOnlyList<K8sObject> Objects { get; }

    /// <summary>The overlay directories under deploy/overlays: every check runs on each of them.</summary>
    public static TheoryData<string> Overlays()
    {
        var data = new TheoryData<string>();
        foreach (var dir in System.IO.Directory.GetDirectories(Path.Combine(RepoPaths.Deploy, "overlays")).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(dir));
        }

        return data;
    }

    public static Rendered Overlay(string name) => Of(RepoPaths.Overlay(name));

    public static Rendered Of(string directory) =>
        Cache.GetOrAdd(directory, d => new Lazy<Rendered>(() => Render(d))).Value;

    private static Rendered Render(string directory)
    {
        var result = Processes.Run("kubectl", "kustomize", directory);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(result.Describe($"kubectl kustomize {directory}"));
        }

        var objects = YamlJson.ParseDocuments(result.StdOut).Select(d => new K8sObject(d.Json)).ToArray();
        return new Rendered(directory, objects);
    }

    public IEnumerable<K8sObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public K8sObject Single(string kind) => Assert.Single(OfKind(kind));

    public K8sObject? Find(string kind, string? ns, string name) =>
        Objects.SingleOrDefault(o => o.Kind == kind && o.Name == name && o.Namespace == ns);

    public K8sObject Get(string kind, string? ns, string name) =>
        Find(kind, ns, name) ?? throw new Xunit.Sdk.XunitException($"{kind} {ns}/{name} is not in the rendered {Directory}");

    /// <summary>The one Deployment of the webhook.</summary>
    public K8sObject Deployment => Single("Deployment");

    /// <summary>The webhook's namespace: the one its Deployment runs in.</summary>
    public string WebhookNamespace => Deployment.Namespace ?? throw new Xunit.Sdk.XunitException("the Deployment has no namespace");

    public JsonElement PodSpec => Deployment.Json.At("spec", "template", "spec") ?? throw new Xunit.Sdk.XunitException("Deployment without a pod spec");

    public IReadOnlyDictionary<string, string> PodLabels => Deployment.Json.Map("spec", "template", "metadata", "labels");

    public IEnumerable<JsonElement> Containers => PodSpec.Items("containers");

    /// <summary>The container port number a Service/probe port refers to (number or name) in the webhook pod.</summary>
    public long? ResolveContainerPort(JsonElement port)
    {
        if (port.ValueKind == JsonValueKind.Number)
        {
            return port.GetInt64();
        }

        var name = port.GetString();
        return Containers.SelectMany(c => c.Items("ports")).Where(p => p.Str("name") == name).Select(p => p.Int("containerPort")).FirstOrDefault();
    }

    public IReadOnlyDictionary<string, string> ConfigData()
    {
        var names = Containers.SelectMany(c => c.Items("envFrom")).Select(e => e.Str("configMapRef", "name")).OfType<string>().ToArray();
        var name = Assert.Single(names);
        return Get("ConfigMap", WebhookNamespace, name).Json.Map("data");
    }

    public IEnumerable<K8sObject> WebhookConfigurations =>
        Objects.Where(o => o.Kind is "ValidatingWebhookConfiguration" or "MutatingWebhookConfiguration");

    public IEnumerable<(K8sObject Configuration, JsonElement Webhook)> Webhooks =>
        WebhookConfigurations.SelectMany(c => c.Json.Items("webhooks").Select(w => (c, w)));
}
