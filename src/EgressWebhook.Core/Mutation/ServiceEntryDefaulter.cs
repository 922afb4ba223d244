using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>Defaults an opted-in ServiceEntry so that egress-gateway routing can be given to it: the routing
/// annotation, <c>location: MESH_EXTERNAL</c>, <c>resolution: DNS</c> when unset and every host is a DNS name,
/// and names for unnamed ports (<c>&lt;protocol&gt;-&lt;number&gt;</c>).</summary>
/// <remarks>Operations are written explicitly from the decoded entry (never by changing a copy and diffing), and
/// only for fields that are unset, so mutating the patched entry gives no operation (the webhook is registered
/// with reinvocation). An entry whose routing would be left out is not changed at all: the warnings say why.
/// No side effect: the routing objects are created by the generator from the stored entry, not here.</remarks>
internal static class ServiceEntryDefaulter
{
    /// <summary>The patch and warnings for <paramref name="entry"/> (as admitted) against <paramref name="view"/>.</summary>
    public static MutationResult Default(ServiceEntry entry, SnapshotView view, MutationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(policy);

        var optIn = RoutingOptIn.Resolve(entry, view, policy);
        if (optIn.Gateway is not { } gateway)
        {
            return optIn.Invalid is { } invalid
                ? new MutationResult([], [new Finding(RuleIds.RoutingSkippedNoGateway, Severity.Warning, entry.Ref, PathOf(optIn.Source),
                    Finding.Clamp($"egress gateway '{invalid}' is not <namespace>/<service> (label: <namespace>.<service>); fix it"), [])], null)
                : MutationResult.None;
        }

        var ops = new List<PatchOperation>();
        var meta = entry.Metadata;
        var spec = entry.Spec;
        var annotations = new Dictionary<string, string>(meta.Annotations);
        if (!meta.Annotations.TryGetValue(RoutingAnnotations.Gateway, out var current) || current != gateway.ToString())
        {
            // an annotation that opted in is already valid (Parse trims); only label and default opt-ins are written down
            if (optIn.Source != OptInSource.Annotation)
            {
                annotations[RoutingAnnotations.Gateway] = gateway.ToString();
                ops.Add(meta.Annotations.Count == 0
                    ? new PatchOperation(PatchOperation.Add, "/metadata/annotations", new JsonObject { [RoutingAnnotations.Gateway] = gateway.ToString() })
                    : new PatchOperation(PatchOperation.Add, "/metadata/annotations/" + JsonPointer.Escape(RoutingAnnotations.Gateway), gateway.ToString()));
            }
        }

        string? location = spec.Location;
        if (string.IsNullOrEmpty(spec.Location))
        {
            location = Locations.MeshExternal;
            ops.Add(new PatchOperation(PatchOperation.Add, "/spec/location", Locations.MeshExternal));
        }

        string? resolution = spec.Resolution;
        if (string.IsNullOrEmpty(spec.Resolution) && spec.Hosts.Count > 0 && spec.Hosts.All(RoutingPlanner.IsDnsName))
        {
            // unset means NONE, and through a gateway NONE loops back to the gateway itself (Istio's egress gateway task)
            resolution = Resolutions.Dns;
            ops.Add(new PatchOperation(PatchOperation.Add, "/spec/resolution", Resolutions.Dns));
        }

        if (string.IsNullOrEmpty(spec.Resolution) && WaypointRouting.Applies(entry, view) &&
            AmbientDynamicDns.Decide(entry with { Spec = spec with { Location = location } }, policy) is { Qualifies: true })
        {
            // ambient wildcard entry: the waypoint's dynamic forward proxy resolves each request's host (Istio 1.28+)
            resolution = Resolutions.DynamicDns;
            ops.Add(new PatchOperation(PatchOperation.Add, "/spec/resolution", Resolutions.DynamicDns));
        }

        var ports = spec.Ports.ToArray();
        var names = new HashSet<string>(spec.Ports.Select(p => p.Name).OfType<string>(), StringComparer.Ordinal);
        for (var i = 0; i < ports.Length; i++)
        {
            if (!string.IsNullOrEmpty(ports[i].Name))
            {
                continue;
            }

            // <protocol>-<number>, or with a suffix when another port has that name already: Istio's schema requires
            // every port to have a name, so none is left without one
            var stem = $"{(string.IsNullOrEmpty(ports[i].Protocol) ? "tcp" : ports[i].Protocol!.ToLowerInvariant())}-{ports[i].Number}";
            var name = stem;
            for (var k = 2; !names.Add(name); k++)
            {
                name = $"{stem}-{k}";
            }

            ports[i] = ports[i] with { Name = name };
            ops.Add(new PatchOperation(PatchOperation.Add, $"/spec/ports/{i}/name", name));
        }

        var defaulted = entry with
        {
            Metadata = meta with { Annotations = annotations },
            Spec = spec with { Location = location, Resolution = resolution, Ports = ports },
        };
        var plan = RoutingPlanner.Plan(defaulted, gateway, view);
        if (plan.Waypoint is { } waypoint)
        {
            // ambient: the entry is routed by its own waypoint labels (only those it lacks; a differing one is EGW411)
            var missing = WaypointRouting.Labels(entry, waypoint).Where(l => !meta.Labels.ContainsKey(l.Key)).ToList();
            if (meta.Labels.Count == 0 && missing.Count > 0)
            {
                var labels = new JsonObject();
                foreach (var (key, value) in missing)
                {
                    labels[key] = value;
                }

                ops.Add(new PatchOperation(PatchOperation.Add, "/metadata/labels", labels));
            }
            else
            {
                ops.AddRange(missing.Select(l => new PatchOperation(PatchOperation.Add, "/metadata/labels/" + JsonPointer.Escape(l.Key), l.Value)));
            }
        }

        if (plan.Routed)
        {
            return new MutationResult(ops, plan.Notices, plan);
        }

        // no patch at all for an entry left out: say which ports stay unnamed, which Istio's schema refuses
        var unnamed = new List<Finding>();
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            if (string.IsNullOrEmpty(spec.Ports[i].Name))
            {
                var why = plan.Notices.Count > 0 ? $"no patch ({plan.Notices[0].Rule})" : "no patch";
                unnamed.Add(new Finding(RuleIds.PortLeftUnnamed, Severity.Warning, entry.Ref, $"spec.ports[{i}].name",
                    Finding.Clamp($"port {spec.Ports[i].Number} unnamed, {why}; Istio's schema requires a name: set one"), []));
            }
        }

        return new MutationResult([], [.. plan.Notices, .. unnamed], plan);
    }

    private static string PathOf(OptInSource source) => source switch
    {
        OptInSource.Annotation => "metadata.annotations",
        OptInSource.NamespaceLabel => "metadata.namespace",
        _ => "metadata",
    };
}
