using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Admission;

/// <summary>What a decision asks the shell to read directly before it is trusted (read your writes): the objects its
/// findings name or used, each read with one get by name (a 404 confirms an absence), and the kinds read as a whole
/// where a finding rests on "no object of this kind matches" (a ServiceEntry for a host, the other leg of a chain).</summary>
/// <param name="Kinds">The kinds to list, and how much of each (<see cref="FreshReadMode"/>).</param>
/// <param name="Objects">The objects to get by name: the missing object an incompleteness names, and the existing
/// objects whose content a contradiction used.</param>
/// <param name="Namespace">The namespace of the object under admission: a kind is first read (or counted) in this
/// namespace (where an object written in the same <c>kubectl apply</c> usually is), and in all namespaces only when
/// the decision still rests on it; null for a cluster-scoped object.</param>
public sealed record FreshReadPlan(IReadOnlyDictionary<ResourceKind, FreshReadMode> Kinds, IReadOnlyList<ObjectKey> Objects, string? Namespace = null)
{
    private static readonly Dictionary<ResourceKind, FreshReadMode> NoKinds = [];

    /// <summary>Nothing to read.</summary>
    public static FreshReadPlan None { get; } = new(NoKinds, []);

    /// <summary>Whether there is nothing to read.</summary>
    public bool IsEmpty => Kinds.Count == 0 && Objects.Count == 0;
}
