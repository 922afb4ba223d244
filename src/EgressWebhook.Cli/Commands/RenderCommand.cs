using System.CommandLine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress render PATH... [--gateway ns/svc]</c>: prints the egress-gateway routing of the opted-in
/// ServiceEntries as YAML for <c>kubectl apply -f -</c> (GitOps: commit the output instead of running the generator).</summary>
/// <remarks>The entries are planned as written, without the webhook's defaults: an entry without
/// <c>resolution: DNS</c> is left out with EGW402, so that the committed entry and its routing check clean together.
/// Exit 0 when every opted-in entry got all its routing, 1 when some was left out (the EGW4xx reasons go to
/// stderr), 2 for unusable input.</remarks>
internal static class RenderCommand
{
    public static Command Create(CliConsole console)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Manifest files, directories (recursively *.yaml, *.yml, *.json) or - for standard input",
            Arity = ArgumentArity.OneOrMore,
        };
        var gateway = new Option<string?>("--gateway")
        {
            Description = "Egress gateway Service <namespace>/<name> for every ServiceEntry not opted in or out otherwise",
        };

        var command = new Command("render", "Print the egress-gateway routing (Gateway, VirtualServices, DestinationRule) of opted-in ServiceEntries as YAML")
        {
            paths, gateway,
        };
        command.SetAction(parse =>
        {
            var defaultGateway = parse.GetValue(gateway);
            if (defaultGateway is not null && RoutingOptIn.Parse(defaultGateway, '/') is null)
            {
                throw new InputException($"--gateway {defaultGateway}: expected <namespace>/<service>");
            }

            var objects = InputLoader.Load(parse.GetRequiredValue(paths), console.In);
            var view = SnapshotView.Of(EgressSnapshot.Create(objects));
            var policy = MutationPolicy.Default with { DefaultGateway = defaultGateway };

            var notices = new List<Finding>();
            foreach (var entry in objects.OfType<ServiceEntry>())
            {
                if (RoutingOptIn.Resolve(entry, view, policy).Invalid is { } invalid)
                {
                    notices.Add(new Finding(RuleIds.RoutingSkippedNoGateway, Severity.Warning, entry.Ref, "metadata.annotations",
                        $"egress gateway '{invalid}' is not <namespace>/<service>; fix it", []));
                }
            }

            // the generator's own path: per-entry plans plus the checks between entries (two entries for one host: EGW405)
            var plans = RoutingReconciler.PlanAll(view, policy);
            var optedIn = plans.Count;
            var rendered = plans.SelectMany(p => p.Objects).ToList();
            notices.AddRange(plans.SelectMany(p => p.Notices));

            if (rendered.Count > 0)
            {
                console.Out.Write(ManifestWriter.ToYaml(rendered));
            }

            // ambient namespaces: nothing to generate, the entry's own waypoint labels are the routing (the webhook
            // patches them in; a GitOps manifest carries them)
            foreach (var plan in plans.Where(p => p.Waypoint is not null))
            {
                var labels = string.Join(", ", WaypointRouting.Labels(plan.Entry, plan.Waypoint!.Value).Select(l => $"{l.Key}: {l.Value}"));
                var routes = WaypointRouting.RoutesAtWaypoint(plan.Entry, view);
                var applying = routes.Count > 0 ? $" (which applies {string.Join(", ", routes.Select(r => r.Display))})" : "";
                console.Error.WriteLine($"ambient: ServiceEntry {plan.Entry.Namespace}/{plan.Entry.Name} routes through waypoint {plan.Waypoint}{applying}: set metadata.labels {{{labels}}}");
            }

            foreach (var n in notices)
            {
                console.Error.WriteLine($"warning: {n.Rule} {n.Object} {n.Path}: {n.Message}");
            }

            if (optedIn == 0 && notices.Count == 0)
            {
                console.Error.WriteLine($"kubectl-egress: no ServiceEntry asks for egress-gateway routing (annotation {RoutingAnnotations.Gateway}, namespace label, or --gateway)");
            }

            return notices.Count > 0 ? ExitCodes.Findings : ExitCodes.Clean;
        });
        return command;
    }
}
