namespace EgressWebhook.Core.Model;

/// <summary>The project's own <c>EgressPolicy</c> (group <c>egress.webhook.dev</c>, cluster-scoped): which external hosts
/// the namespaces it selects may open, and how their traffic must leave (docs/policy.md).</summary>
public sealed record EgressPolicy : EgressObject
{
    /// <summary>The API group the project owns (not under <c>istio.io</c>).</summary>
    public const string Group = "egress.webhook.dev";

    /// <summary>The served version.</summary>
    public const string Version = "v1alpha1";

    public override ResourceKind ResourceKind => ResourceKind.EgressPolicy;

    public EgressPolicySpec Spec { get; init => field = value ?? new(); } = new();
}

/// <summary><c>spec</c> of an <see cref="EgressPolicy"/>. Every part is optional; a part that is absent restricts nothing.</summary>
public sealed record EgressPolicySpec
{
    /// <summary>The namespaces the policy applies to, by their labels; absent selects every namespace.</summary>
    public LabelSelector? NamespaceSelector { get; init; }

    /// <summary>One of <see cref="PolicyActions"/>; null means <c>Deny</c>.</summary>
    public string? Action { get; init; }

    /// <summary>The external hosts (with ports and protocols) the selected namespaces may open; null restricts no
    /// host, an empty list allows none.</summary>
    public IReadOnlyList<EgressAllowRule>? Allow { get; init; }

    /// <summary><c>namespace/name</c> of the egress gateway Service every MESH_EXTERNAL host must be routed through.</summary>
    public string? RequiredGateway { get; init; }

    /// <summary>The ambient form of the required path: the waypoint (a Gateway API Gateway of class
    /// <c>istio-waypoint</c>) every MESH_EXTERNAL ServiceEntry must be bound to. Exclusive with <see cref="RequiredGateway"/>.</summary>
    public WaypointRef? RequiredWaypoint { get; init; }

    public WildcardGuard? Wildcards { get; init; }

    public ExportToGuard? ExportTo { get; init; }

    public SidecarGuard? Sidecar { get; init; }

    public MeshInternalGuard? MeshInternal { get; init; }

    /// <summary>Who is exempt (break-glass): admission lets their changes through and records it in the audit line.</summary>
    public PolicyExceptions? Exceptions { get; init; }
}

/// <summary><c>spec.requiredWaypoint</c>: the waypoint Gateway by namespace and name.</summary>
public sealed record WaypointRef
{
    public string? Namespace { get; init; }

    public string? Name { get; init; }

    /// <summary><c>namespace/name</c>.</summary>
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>One allowed destination: hosts (exact names or <c>*.</c> globs), and optionally ports and protocols.</summary>
public sealed record EgressAllowRule
{
    public IReadOnlyList<string> Hosts { get; init => field = NullSafe.List(value); } = [];

    /// <summary>Allowed port numbers; empty allows every port.</summary>
    public IReadOnlyList<int> Ports { get; init => field = value ?? []; } = [];

    /// <summary>Allowed protocols (case-insensitive); empty allows every protocol.</summary>
    public IReadOnlyList<string> Protocols { get; init => field = NullSafe.List(value); } = [];
}

/// <summary><c>spec.wildcards</c>: wildcard hosts forbidden unless listed.</summary>
public sealed record WildcardGuard
{
    public bool Forbid { get; init; }

    /// <summary>Wildcards still allowed (a host within one of them passes).</summary>
    public IReadOnlyList<string> Allowed { get; init => field = NullSafe.List(value); } = [];
}

/// <summary><c>spec.exportTo</c>: the exportTo values objects of the selected namespaces may use.</summary>
public sealed record ExportToGuard
{
    /// <summary><c>self</c> (or <c>.</c>): the object's own namespace; <c>*</c>; or namespace names. <c>~</c> is always allowed.</summary>
    public IReadOnlyList<string> Allowed { get; init => field = NullSafe.List(value); } = [];
}

/// <summary><c>spec.sidecar</c>: what Sidecars of the selected namespaces may do to the outbound policy.</summary>
public sealed record SidecarGuard
{
    /// <summary>A Sidecar may not set <c>ALLOW_ANY</c> under a <c>REGISTRY_ONLY</c> mesh (default true).</summary>
    public bool? ForbidAllowAny { get; init; }

    /// <summary>Report a Sidecar <c>egress.hosts</c> restriction under <c>ALLOW_ANY</c> as no security boundary (default true).</summary>
    public bool? ReportEgressHostsUnderAllowAny { get; init; }
}

/// <summary><c>spec.meshInternal</c>: <c>location: MESH_INTERNAL</c> only for cluster services.</summary>
public sealed record MeshInternalGuard
{
    public bool RequireClusterService { get; init; }
}

/// <summary><c>spec.exceptions</c>: break-glass by the requester's groups, user names or service accounts.</summary>
public sealed record PolicyExceptions
{
    public IReadOnlyList<string> Groups { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<string> Users { get; init => field = NullSafe.List(value); } = [];

    /// <summary><c>namespace/name</c>, matched as the user <c>system:serviceaccount:namespace:name</c>.</summary>
    public IReadOnlyList<string> ServiceAccounts { get; init => field = NullSafe.List(value); } = [];
}

/// <summary>What a policy does with what it forbids.</summary>
public static class PolicyActions
{
    /// <summary>Errors: the webhook denies, the CLI fails.</summary>
    public const string Deny = "Deny";

    /// <summary>Warnings.</summary>
    public const string Warn = "Warn";

    /// <summary>Recorded only: the audit line and the report, never a denial or an admission warning.</summary>
    public const string Audit = "Audit";

    /// <summary>The action as written (case-insensitive), <c>Deny</c> when unset; null when unknown.</summary>
    public static string? Parse(string? value) =>
        string.IsNullOrEmpty(value) || string.Equals(value, Deny, StringComparison.OrdinalIgnoreCase) ? Deny :
        string.Equals(value, Warn, StringComparison.OrdinalIgnoreCase) ? Warn :
        string.Equals(value, Audit, StringComparison.OrdinalIgnoreCase) ? Audit : null;
}
