namespace EgressWebhook.Core.Model;

/// <summary>A <c>security.istio.io</c> AuthorizationPolicy, read for what ties it to egress: its <c>targetRefs</c> (a
/// ServiceEntry, enforced by the entry's waypoint) and its selector.</summary>
internal sealed record AuthorizationPolicy : EgressObject
{
    public const string Group = "security.istio.io";

    public override ResourceKind ResourceKind => ResourceKind.AuthorizationPolicy;

    public AuthorizationPolicySpec Spec { get; init => field = value ?? new(); } = new();
}

internal sealed record AuthorizationPolicySpec
{
    /// <summary>The single-target form (deprecated for <see cref="TargetRefs"/>).</summary>
    public PolicyTargetReference? TargetRef { get; init; }

    public IReadOnlyList<PolicyTargetReference> TargetRefs { get; init => field = NullSafe.List(value); } = [];

    public WorkloadSelector? Selector { get; init; }

    public string? Action { get; init; }

    /// <summary>The targets with their manifest paths: <c>spec.targetRef</c> and each <c>spec.targetRefs[i]</c>.</summary>
    public IEnumerable<(string Path, PolicyTargetReference Target)> Targets()
    {
        if (TargetRef is { } single)
        {
            yield return ("spec.targetRef", single);
        }

        for (var i = 0; i < TargetRefs.Count; i++)
        {
            yield return ($"spec.targetRefs[{i}]", TargetRefs[i]);
        }
    }
}

/// <summary>A policy target: <c>group</c>, <c>kind</c>, <c>name</c> (same namespace as the policy).</summary>
internal sealed record PolicyTargetReference
{
    public string? Group { get; init; }

    public string? Kind { get; init; }

    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>Rejected by the CRD when set (cross-namespace targets are not supported).</summary>
    public string? Namespace { get; init; }

    /// <summary>Whether it names a ServiceEntry (<c>networking.istio.io</c>).</summary>
    public bool IsServiceEntry => Kind == "ServiceEntry" && Group == IstioObject<ServiceEntrySpec>.Group;
}
