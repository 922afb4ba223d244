using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>Istio <c>ServiceEntry</c>: adds an entry to the mesh's service registry.</summary>
public sealed record ServiceEntry : IstioObject<ServiceEntrySpec>
{

    public override ResourceKind ResourceKind => ResourceKind.ServiceEntry;

    public ServiceEntryStatus Status { get; init => field = value ?? new(); } = new();
}

public sealed record ServiceEntrySpec
{
    public IReadOnlyList<string> Hosts { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> Addresses { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<ServicePortSpec> Ports { get; init => field = NullSafe.List(value); } = [];

    /// <summary>One of <see cref="Locations"/>; null means MESH_EXTERNAL.</summary>
    public string? Location { get; init; }

    /// <summary>One of <see cref="Resolutions"/>; null means NONE. Unknown values are kept.</summary>
    public string? Resolution { get; init; }

    public IReadOnlyList<WorkloadEntrySpec> Endpoints { get; init => field = NullSafe.List(value); } = [];

    public WorkloadSelector? WorkloadSelector { get; init; }

    public IReadOnlyList<string> ExportTo { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> SubjectAltNames { get; init => field = NullSafe.List(value); } = [];

    /// <summary>Resolution with Istio's default applied.</summary>
    [JsonIgnore]
    public string EffectiveResolution => string.IsNullOrEmpty(Resolution) ? Resolutions.None : Resolution;

    /// <summary>Location with Istio's default applied.</summary>
    [JsonIgnore]
    public string EffectiveLocation => string.IsNullOrEmpty(Location) ? Locations.MeshExternal : Location;
}

/// <summary>A port of a ServiceEntry or Gateway server (Istio <c>ServicePort</c> / <c>Port</c>).</summary>
public sealed record ServicePortSpec
{
    public int Number { get; init; }

    public string? Protocol { get; init; }

    public string? Name { get; init; }

    public int? TargetPort { get; init; }
}

public sealed record WorkloadEntrySpec
{
    public string? Address { get; init; }

    public IReadOnlyDictionary<string, int> Ports { get; init => field = NullSafe.Map(value, EmptyPorts); } = EmptyPorts;

    public IReadOnlyDictionary<string, string> Labels { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;

    public string? Network { get; init; }

    public string? Locality { get; init; }

    public int? Weight { get; init; }

    private static readonly IReadOnlyDictionary<string, int> EmptyPorts = new Dictionary<string, int>();
}

public sealed record WorkloadSelector
{
    public IReadOnlyDictionary<string, string> Labels { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;

    /// <summary>DestinationRule's selector field name.</summary>
    public IReadOnlyDictionary<string, string> MatchLabels { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;
}

public sealed record ServiceEntryStatus
{
    public IReadOnlyList<AllocatedAddress> Addresses { get; init => field = NullSafe.List(value); } = [];
}

public sealed record AllocatedAddress
{
    public string? Value { get; init; }

    public string? Host { get; init; }
}

/// <summary>ServiceEntry resolution values.</summary>
internal static class Resolutions
{
    public const string None = "NONE";
    public const string Static = "STATIC";
    public const string Dns = "DNS";
    public const string DnsRoundRobin = "DNS_ROUND_ROBIN";

    /// <summary>Istio 1.28+: a dynamic forward proxy resolves each wildcard-matched host on demand (sidecars, waypoints).</summary>
    public const string DynamicDns = "DYNAMIC_DNS";
}

/// <summary>ServiceEntry location values.</summary>
internal static class Locations
{
    public const string MeshExternal = "MESH_EXTERNAL";
    public const string MeshInternal = "MESH_INTERNAL";
}
