using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Mutation;

/// <summary>What the mutating webhook answers for a ServiceEntry: a JSON Patch and the admission warnings.</summary>
/// <param name="Patch">RFC 6902 operations; empty when nothing changes.</param>
/// <param name="Warnings">EGW4xx notices: why routing is (partly) left out.</param>
/// <param name="Plan">The routing the generator will create for the patched entry, when opted in.</param>
public sealed record MutationResult(IReadOnlyList<PatchOperation> Patch, IReadOnlyList<Finding> Warnings, RoutingPlan? Plan)
{
    public static MutationResult None { get; } = new([], [], null);
}
