using System.Text.Json.Nodes;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>The generator's pure core: from the stored ServiceEntries to the routing objects to create, update and delete.</summary>
/// <remarks>Entries that already own routing are planned first, then the others in namespace/name order; a host
/// planned by an earlier entry in the same pass is a conflict (EGW405) for a later one, so two new entries for one
/// host never both get routing, and ownership does not move between passes.</remarks>
public static class RoutingReconciler
{
    private static readonly ResourceKind[] GeneratedKinds = [ResourceKind.Gateway, ResourceKind.VirtualService, ResourceKind.DestinationRule];

    /// <summary>Plans every opted-in ServiceEntry of <paramref name="view"/> with the checks between entries (a host
    /// planned by an earlier entry is a conflict, EGW405, for a later one): the one path of the generator and of
    /// <c>kubectl-egress render</c>. Entries that already own generated routing come first, then namespace/name order.</summary>
    public static IReadOnlyList<RoutingPlan> PlanAll(SnapshotView view, MutationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(policy);
        return PlanAll(view, policy, GeneratedKinds.SelectMany(k => view.OfKind<EgressObject>(k)).Where(RuleContext.IsGenerated).ToList());
    }

    private static List<RoutingPlan> PlanAll(SnapshotView view, MutationPolicy policy, List<EgressObject> generated)
    {
        var owners = generated.SelectMany(o => o.Metadata.OwnerReferences.Where(r => r.Kind == "ServiceEntry").Select(r => (o.Namespace, r.Name)))
            .ToHashSet();
        var entries = view.OfKind<ServiceEntry>(ResourceKind.ServiceEntry)
            .OrderBy(se => owners.Contains((se.Namespace, se.Name)) ? 0 : 1)
            .ThenBy(se => se.Namespace, StringComparer.Ordinal).ThenBy(se => se.Name, StringComparer.Ordinal);

        var plans = new List<RoutingPlan>();
        var claimed = new List<(string Host, ServiceEntry Entry)>();
        foreach (var entry in entries)
        {
            if (RoutingOptIn.Resolve(entry, view, policy).Gateway is not { } gateway)
            {
                continue;
            }

            var plan = RoutingPlanner.Plan(entry, gateway, view);

            if (plan.Routed)
            {
                var hosts = EgressSnapshot.HostsOf(entry).ToList();
                var taken = claimed.FirstOrDefault(c => hosts.Any(h => HostName.Matches(h, c.Host)));
                if (taken.Entry is not null)
                {
                    plan = plan with
                    {
                        Objects = [],
                        Waypoint = null,
                        Notices = [new Finding(RuleIds.RoutingSkippedConflictingRoute, Severity.Warning, entry.Ref, "spec.hosts",
                            Finding.Clamp($"ServiceEntry {taken.Entry.Namespace}/{taken.Entry.Name} gets the egress routing of {taken.Host}; route it there only"),
                            [taken.Entry.Ref])],
                    };
                }
                else
                {
                    claimed.AddRange(hosts.Select(h => (h, entry)));
                }
            }

            plans.Add(plan);
        }

        return plans;
    }

    /// <summary>Plans every opted-in ServiceEntry of <paramref name="view"/> and compares with the generated objects it holds.</summary>
    public static RoutingChanges Reconcile(SnapshotView view, MutationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(policy);

        var generated = GeneratedKinds.SelectMany(k => view.OfKind<EgressObject>(k)).Where(RuleContext.IsGenerated).ToList();
        var plans = PlanAll(view, policy, generated);
        var desired = plans.SelectMany(p => p.Objects).ToList();
        var desiredKeys = desired.Select(o => o.Key).ToHashSet();
        var apply = desired.Where(o => view.Find(o.Key) is not { } stored || !SameManifest(stored, o)).OrderBy(WriteOrder).ToList();

        // only objects owned by a ServiceEntry are the generator's to delete (rendered GitOps objects have no owner)
        var delete = generated.Where(o => !desiredKeys.Contains(o.Key) && o.Metadata.OwnerReferences.Any(r => r.Kind == "ServiceEntry"))
            .OrderByDescending(WriteOrder).ToList();
        return new RoutingChanges(apply, delete, plans);
    }

    /// <summary>Dependency rank of a routing object: what a write refers to is written before it (and deleted after it).
    /// 0 Gateway (the server a leg binds to), 1 DestinationRule, 2 gateway leg (a VirtualService bound to a Gateway),
    /// 3 mesh leg (a VirtualService bound to <c>mesh</c>, which sends traffic into the gateway leg).</summary>
    public static int WriteOrder(EgressObject obj) => obj switch
    {
        Gateway => 0,
        DestinationRule => 1,
        VirtualService vs when !EgressSnapshot.IsBoundTo(vs, GatewayRefs.Mesh) => 2,
        _ => 3,
    };

    private static bool SameManifest(EgressObject stored, EgressObject planned)
    {
        var plannedJson = Comparable(planned);
        var storedJson = Comparable(stored);

        // labels and annotations others add to a generated object are theirs to keep: compare only the planned ones
        foreach (var field in new[] { "labels", "annotations" })
        {
            if (storedJson["metadata"]?[field] is JsonObject extra)
            {
                var wanted = plannedJson["metadata"]?[field] as JsonObject;
                foreach (var key in extra.Select(p => p.Key).Where(k => wanted?.ContainsKey(k) != true).ToList())
                {
                    extra.Remove(key);
                }

                if (extra.Count == 0 && wanted is null)
                {
                    ((JsonObject)storedJson["metadata"]!).Remove(field);
                }
            }
        }

        return storedJson.ToJsonString() == plannedJson.ToJsonString();
    }

    /// <summary>The manifest without its apiVersions (its own and its owner's): networking.istio.io v1, v1beta1 and
    /// v1alpha3 are one schema, and the generator writes at the version the cluster serves, so an object stored at
    /// another version than the planner's is not a difference.</summary>
    private static JsonObject Comparable(EgressObject obj)
    {
        var json = ManifestWriter.ToJson(obj);
        json.Remove("apiVersion");
        if (json["metadata"]?["ownerReferences"] is JsonArray owners)
        {
            foreach (var owner in owners.OfType<JsonObject>())
            {
                owner.Remove("apiVersion");
            }
        }

        return json;
    }
}
