using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Mutation;

/// <summary>The routing objects for one ServiceEntry, and the notices (EGW4xx warnings) on what was left out and why.</summary>
/// <param name="Entry">The entry planned for.</param>
/// <param name="Objects">Gateway, VirtualServices and DestinationRules, in a stable order; empty when routing is left out.</param>
/// <param name="Notices">EGW4xx warnings about the entry (whole entry left out, or single ports).</param>
/// <param name="Waypoint">In an ambient namespace: the egress waypoint the entry is bound to by its own labels
/// (<see cref="WaypointRouting"/>); no objects are generated then.</param>
public sealed record RoutingPlan(ServiceEntry Entry, IReadOnlyList<EgressObject> Objects, IReadOnlyList<Finding> Notices, GatewayServiceRef? Waypoint = null)
{
    /// <summary>Whether the entry gets routing (at least one port, or its waypoint).</summary>
    public bool Routed => Objects.Count > 0 || Waypoint is not null;
}
