using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>Istio <c>DestinationRule</c>: policies (TLS origination, pools) and subsets for a host.</summary>
public sealed record DestinationRule : IstioObject<DestinationRuleSpec>
{
    public override ResourceKind ResourceKind => ResourceKind.DestinationRule;
}

public sealed record DestinationRuleSpec
{
    public string Host { get; init => field = value ?? ""; } = "";

    public TrafficPolicy? TrafficPolicy { get; init; }

    public IReadOnlyList<Subset> Subsets { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> ExportTo { get; init => field = NullSafe.List(value); } = [];

    public WorkloadSelector? WorkloadSelector { get; init; }
}

public sealed record TrafficPolicy
{
    public ClientTlsSettings? Tls { get; init; }

    public IReadOnlyList<PortTrafficPolicy> PortLevelSettings { get; init => field = NullSafe.List(value); } = [];
}

public sealed record PortTrafficPolicy
{
    public PortSelector? Port { get; init; }

    public ClientTlsSettings? Tls { get; init; }
}

public sealed record Subset
{
    public string Name { get; init => field = value ?? ""; } = "";

    public IReadOnlyDictionary<string, string> Labels { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;

    public TrafficPolicy? TrafficPolicy { get; init; }
}

public sealed record ClientTlsSettings
{
    /// <summary>One of <see cref="ClientTlsModes"/>; null means DISABLE.</summary>
    public string? Mode { get; init; }

    public string? ClientCertificate { get; init; }

    public string? PrivateKey { get; init; }

    public string? CaCertificates { get; init; }

    public string? CredentialName { get; init; }

    public IReadOnlyList<string> SubjectAltNames { get; init => field = NullSafe.List(value); } = [];

    public string? Sni { get; init; }

    public bool? InsecureSkipVerify { get; init; }

    [JsonIgnore]
    public string EffectiveMode => string.IsNullOrEmpty(Mode) ? ClientTlsModes.Disable : Mode;
}

/// <summary>DestinationRule client TLS modes.</summary>
internal static class ClientTlsModes
{
    public const string Disable = "DISABLE";
    public const string Simple = "SIMPLE";
    public const string Mutual = "MUTUAL";
    public const string IstioMutual = "ISTIO_MUTUAL";

    /// <summary>Modes in which the proxy originates TLS to the destination itself.</summary>
    public static bool Originates(string mode) => mode is Simple or Mutual;
}
