using System.Text.Json.Serialization;

namespace EgressWebhook.Core.Model;

/// <summary>Istio <c>Gateway</c>: servers (ports, hosts, TLS) on the workloads its selector picks.</summary>
public sealed record Gateway : IstioObject<GatewaySpec>
{
    public override ResourceKind ResourceKind => ResourceKind.Gateway;
}

public sealed record GatewaySpec
{
    public IReadOnlyDictionary<string, string> Selector { get; init => field = NullSafe.Map(value, ObjectMeta.EmptyMap); } = ObjectMeta.EmptyMap;

    public IReadOnlyList<GatewayServer> Servers { get; init => field = NullSafe.List(value); } = [];
}

public sealed record GatewayServer
{
    public ServicePortSpec? Port { get; init; }

    public string? Bind { get; init; }

    public IReadOnlyList<string> Hosts { get; init => field = NullSafe.List(value); } = [];

    public ServerTlsSettings? Tls { get; init; }

    public string? Name { get; init; }
}

public sealed record ServerTlsSettings
{
    public bool? HttpsRedirect { get; init; }

    /// <summary>One of <see cref="ServerTlsModes"/>; null means PASSTHROUGH.</summary>
    public string? Mode { get; init; }

    public string? ServerCertificate { get; init; }

    public string? PrivateKey { get; init; }

    public string? CaCertificates { get; init; }

    public string? CredentialName { get; init; }

    public IReadOnlyList<string> CredentialNames { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> SubjectAltNames { get; init => field = NullSafe.List(value); } = [];

    [JsonIgnore]
    public string EffectiveMode => string.IsNullOrEmpty(Mode) ? ServerTlsModes.Passthrough : Mode;

    /// <summary>Whether any certificate field is set (they are ignored in PASSTHROUGH).</summary>
    [JsonIgnore]
    public bool HasCertificateFields =>
        !string.IsNullOrEmpty(ServerCertificate) || !string.IsNullOrEmpty(PrivateKey) ||
        !string.IsNullOrEmpty(CaCertificates) || !string.IsNullOrEmpty(CredentialName) || CredentialNames.Count > 0;
}

/// <summary>Gateway server TLS modes.</summary>
internal static class ServerTlsModes
{
    public const string Passthrough = "PASSTHROUGH";
    public const string Simple = "SIMPLE";
    public const string Mutual = "MUTUAL";
    public const string AutoPassthrough = "AUTO_PASSTHROUGH";
    public const string IstioMutual = "ISTIO_MUTUAL";
    public const string OptionalMutual = "OPTIONAL_MUTUAL";

    public static bool IsPassthrough(string mode) => mode is Passthrough or AutoPassthrough;
}
