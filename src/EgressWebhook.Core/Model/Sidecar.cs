namespace EgressWebhook.Core.Model;

/// <summary>Istio <c>Sidecar</c>: scopes what the sidecars of a namespace can reach, and their outbound policy.</summary>
public sealed record Sidecar : IstioObject<SidecarSpec>
{
    public override ResourceKind ResourceKind => ResourceKind.Sidecar;
}

public sealed record SidecarSpec
{
    public WorkloadSelector? WorkloadSelector { get; init; }

    public IReadOnlyList<IstioEgressListener> Egress { get; init => field = NullSafe.List(value); } = [];

    public OutboundTrafficPolicy? OutboundTrafficPolicy { get; init; }
}

public sealed record IstioEgressListener
{
    public ServicePortSpec? Port { get; init; }

    public string? Bind { get; init; }

    public IReadOnlyList<string> Hosts { get; init => field = NullSafe.List(value); } = [];
}

public sealed record OutboundTrafficPolicy
{
    /// <summary>One of <see cref="OutboundPolicies"/>; null means ALLOW_ANY.</summary>
    public string? Mode { get; init; }
}

/// <summary>Mesh / Sidecar outbound traffic policy modes.</summary>
public static class OutboundPolicies
{
    public const string AllowAny = "ALLOW_ANY";
    public const string RegistryOnly = "REGISTRY_ONLY";

    /// <summary>Istio 1.31: unknown plaintext HTTP goes through a dynamic forward proxy, the rest as under ALLOW_ANY.</summary>
    public const string AllowAnyDynamicDns = "ALLOW_ANY_DYNAMIC_DNS";

    /// <summary>Whether Istio's MeshConfig enum has <paramref name="value"/> as written (its enums are case-sensitive).</summary>
    public static bool IsIstioMode(string value) => value is AllowAny or RegistryOnly or AllowAnyDynamicDns;

    /// <summary>Parses a user-supplied mode (case-insensitive); null when it is neither.</summary>
    public static string? Parse(string? value) =>
        string.Equals(value, AllowAny, StringComparison.OrdinalIgnoreCase) ? AllowAny :
        string.Equals(value, RegistryOnly, StringComparison.OrdinalIgnoreCase) ? RegistryOnly : null;
}
