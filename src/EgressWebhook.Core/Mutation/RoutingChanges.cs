using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Mutation;

/// <summary>What the generator must do to bring the cluster to the planned routing.</summary>
/// <param name="Apply">Planned objects that are missing or differ from the stored ones (create or update them), in
/// dependency order (<see cref="RoutingReconciler.WriteOrder"/>): Gateways, DestinationRules, gateway legs, mesh legs.</param>
/// <param name="Delete">Generated objects owned by a ServiceEntry that no longer plans them, in the reverse order.</param>
/// <param name="Plans">The plan of every opted-in ServiceEntry, with its notices.</param>
public sealed record RoutingChanges(IReadOnlyList<EgressObject> Apply, IReadOnlyList<EgressObject> Delete, IReadOnlyList<RoutingPlan> Plans);
