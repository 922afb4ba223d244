using System.Text.Json;
using System.Text.Json.Serialization;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Serialization;

/// <summary>The one source-generated JSON context: manifests, admission reviews and reports.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    Converters = [typeof(LenientStringConverter)])]
[JsonSerializable(typeof(ServiceEntry))]
[JsonSerializable(typeof(Gateway))]
[JsonSerializable(typeof(VirtualService))]
[JsonSerializable(typeof(DestinationRule))]
[JsonSerializable(typeof(Sidecar))]
[JsonSerializable(typeof(Service))]
[JsonSerializable(typeof(Namespace))]
[JsonSerializable(typeof(MeshConfig))]
[JsonSerializable(typeof(GatewayApiRoute))]
[JsonSerializable(typeof(GatewayApiGateway))]
[JsonSerializable(typeof(ReferenceGrant))]
[JsonSerializable(typeof(AuthorizationPolicy))]
[JsonSerializable(typeof(EgressPolicy))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
[JsonSerializable(typeof(ConfigMapDocument))]
[JsonSerializable(typeof(IstioOperatorDocument))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class EgressJsonContext : JsonSerializerContext
{
}

/// <summary>A core v1 ConfigMap, read only for Istio's mesh config.</summary>
internal sealed record ConfigMapDocument
{
    public ObjectMeta Metadata { get; init => field = value ?? new(); } = new();

    public IReadOnlyDictionary<string, string> Data { get; init => field = value ?? ObjectMeta.EmptyMap; } = ObjectMeta.EmptyMap;
}

/// <summary>An IstioOperator (or a bare <c>spec:</c> fragment of one), read only for <c>spec.meshConfig</c>.</summary>
internal sealed record IstioOperatorDocument
{
    public ObjectMeta Metadata { get; init => field = value ?? new(); } = new();

    public IstioOperatorSpec Spec { get; init => field = value ?? new(); } = new();
}

internal sealed record IstioOperatorSpec
{
    public MeshConfig? MeshConfig { get; init; }
}
