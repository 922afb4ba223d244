namespace EgressWebhook.Core.Model;

/// <summary>A Gateway API <c>ReferenceGrant</c>: lets objects of the <c>from</c> kinds in other namespaces refer to the
/// <c>to</c> objects of its own namespace (a route's <c>backendRefs</c> across namespaces needs one).</summary>
internal sealed record ReferenceGrant : EgressObject
{
    public override ResourceKind ResourceKind => ResourceKind.ReferenceGrant;

    public ReferenceGrantSpec Spec { get; init => field = value ?? new(); } = new();
}

internal sealed record ReferenceGrantSpec
{
    public IReadOnlyList<ReferenceGrantFrom> From { get; init => field = NullSafe.List(value); } = [];

    public IReadOnlyList<ReferenceGrantTo> To { get; init => field = NullSafe.List(value); } = [];
}

internal sealed record ReferenceGrantFrom
{
    public string? Group { get; init; }

    public string? Kind { get; init; }

    public string? Namespace { get; init; }
}

internal sealed record ReferenceGrantTo
{
    /// <summary><c>""</c> for the core group (a Service).</summary>
    public string? Group { get; init; }

    public string? Kind { get; init; }

    /// <summary>Unset: every object of the kind.</summary>
    public string? Name { get; init; }
}
