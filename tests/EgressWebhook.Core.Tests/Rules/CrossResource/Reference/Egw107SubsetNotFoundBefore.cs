using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.CrossResource;
using EgressWebhook.Core.Snapshot;

// The rule as it was at 2ce787f (before the VirtualService rules shared their per-destination work and made nothing
// past the finding cap): the reference VirtualServiceSharedPathEquivalenceTests holds the rule to.
namespace EgressWebhook.Core.Tests.Rules.CrossResource.Reference;

/// <summary>EGW107: (a) a destination <c>subset</c> is defined by no DestinationRule for that host on the client's
/// lookup path (error; IST0101 subset, KIA1107); (b) a DestinationRule's host matches no ServiceEntry and no
/// Service (warning; IST0174); (c) a mesh leg's subset is missing for clients in other namespaces the VirtualService
/// is exported to (warning; istio/istio#15556).</summary>
/// <remarks>
/// (a) The client namespace is the VirtualService's for a mesh leg, the gateway workload's for a gateway leg; the lookup path is <see cref="RuleContext.DestinationRulesOnLookupPath"/>
/// (client namespace, the host's own namespace, the root namespace, each honouring exportTo; the first with a
/// DestinationRule for the host wins, so a DR there without the subset hides one further along). A DR anywhere else
/// "will not be found on destination rule lookup path" (Istio docs). Hosts are compared as Istio resolves them: a name
/// with a dot, like <c>reviews.bookinfo</c>, is taken as written and is not <c>reviews.bookinfo.svc.cluster.local</c>.
/// Envoy gets a route to a cluster that does not exist: 503 with no healthy upstream. When the input is not the
/// whole cluster and holds no DestinationRule at all (manifests checked without theirs), (a) is a warning.
/// (b) Catch-all hosts (<c>*</c>, <c>*.local</c>, <c>*.cluster.local</c>, <c>*.svc.cluster.local</c>: mesh-wide policy) are not judged.
/// </remarks>
internal sealed class Egw107SubsetNotFoundBefore : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.SubsetNotFound];

    /// <summary>A subset no DestinationRule defines.</summary>
    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.DestinationRule];

    public bool AppliesTo(ResourceKind kind) => kind is ResourceKind.VirtualService or ResourceKind.DestinationRule;

    public void Check(EgressObject subject, RuleContext context)
    {
        switch (subject)
        {
            case VirtualService vs:
                CheckSubsets(context, vs);
                break;
            case DestinationRule dr:
                CheckHost(context, dr);
                break;
        }
    }

    /// <summary>For a DestinationRule: the VirtualServices routing to its host with a subset (the only destinations
    /// this rule judges; through their own index, so that a DestinationRule for a host every route uses, such as the
    /// egress gateway's, does not recheck them all). For a ServiceEntry or Service: the DestinationRules whose host it declares.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        DestinationRule dr => view.VirtualServicesRoutingToSubsetsOf(EgressSnapshot.HostOf(dr)).Select(m => m.Item).Distinct(),
        _ => ServiceRegistry.DestinationRulesForRegistryObject(changed, view),
    };

    private static void CheckSubsets(RuleContext context, VirtualService vs)
    {
        var destinations = context.DestinationsOf(vs);
        for (var i = 0; i < destinations.Count; i++)
        {
            var d = destinations[i];
            if (d.Destination.Subset is not { Length: > 0 } subset)
            {
                continue;
            }

            var scopes = context.ScopesOf(vs, d.Gateways);
            if (scopes.Count == 0)
            {
                // bound only to missing Gateways (EGW104): where it runs is unknown, but a subset no DestinationRule for the
                // host defines is missing from every lookup path
                CheckAnywhere(context, vs, d, subset);
                continue;
            }

            var reported = false;
            foreach (var scope in scopes)
            {
                if (CheckFrom(context, vs, d, subset, scope))
                {
                    reported = true;
                    break;
                }
            }

            if (!reported && d.Gateways.Contains(GatewayRefs.Mesh))
            {
                CheckClients(context, vs, d, subset);
            }
        }
    }

    /// <summary>(a) from where the leg runs: the sidecars of the VirtualService's namespace, or a gateway's namespace.</summary>
    private static bool CheckFrom(RuleContext context, VirtualService vs, DestinationRef d, string subset, LegScope scope)
    {
        var ns = scope.ClientNamespace;
        var onPath = context.DestinationRulesOnLookupPath(d.Host, ns);
        if (onPath.Any(dr => Defines(dr, subset)))
        {
            return false;
        }

        // past the cap a finding is only counted, under its list: no path or message is made (a VirtualService may
        // have 150,000 destinations), but its severity and what it awaits are the same
        var capped = context.IsCapped(RuleIds.SubsetNotFound, vs);
        var path = capped ? d.ListPath : d.Path + ".subset";
        if (onPath.Count > 0)
        {
            var dr = onPath[0];
            var names = capped ? "" : dr.Spec.Subsets.Count == 0 ? "none" : string.Join(", ", dr.Spec.Subsets.Select(s => s.Name).Take(4));
            context.Report(RuleIds.SubsetNotFound, Severity.Error, vs, path,
                capped ? "" : $"subset {subset} is not in {dr.Ref} (subsets: {names}), first on the lookup path of {ns}; add it there", onPath.Select(r => r.Ref));
            return true;
        }

        var elsewhere = context.View.DestinationRules(d.Host).Select(m => m.Item).Where(dr => Defines(dr, subset)).Distinct().ToList();
        if (elsewhere.FirstOrDefault(dr => !ExportTo.IsVisible(dr.Spec.ExportTo, dr.Namespace, ns, context.Mesh.DefaultDestinationRuleExportTo)) is { } unexported)
        {
            context.Report(RuleIds.SubsetNotFound, Severity.Error, vs, path,
                capped ? "" : $"subset {subset} is in {unexported.Ref}, which is not exported to {ns}; add {ns} to its exportTo", elsewhere.Select(r => r.Ref));
        }
        else if (elsewhere.Count > 0)
        {
            context.Report(RuleIds.SubsetNotFound, Severity.Error, vs, path,
                capped ? "" : $"subset {subset} is only in {elsewhere[0].Ref}, off the lookup path of {ns}; move it to {HostName.NamespaceOf(d.Host) ?? ns}",
                elsewhere.Select(r => r.Ref));
        }
        else
        {
            // offline, with no DestinationRule in the input at all, it simply lacks them: absence proves nothing (the whole cluster's does)
            context.Report(new Awaited(ResourceKind.DestinationRule, $"a DestinationRule with subset {subset}"), RuleIds.SubsetNotFound,
                context.AbsenceIsEvidence(ResourceKind.DestinationRule) ? Severity.Error : Severity.Warning, vs, path,
                capped ? "" : $"subset {subset} of {d.Host}: no DestinationRule defines it for {ns}; add a DestinationRule with it");
        }

        return true;
    }

    /// <summary>(a) for a leg whose Gateways are all missing: judged from no namespace, only whether any DestinationRule
    /// for the host defines the subset (Kiali KIA1107's test).</summary>
    private static void CheckAnywhere(RuleContext context, VirtualService vs, DestinationRef d, string subset)
    {
        var rules = context.View.DestinationRules(d.Host).Select(m => m.Item).Distinct().ToList();
        if (rules.Exists(dr => Defines(dr, subset)))
        {
            return;
        }

        var path = d.Path + ".subset";
        if (rules.Count > 0)
        {
            var names = rules[0].Spec.Subsets.Count == 0 ? "none" : string.Join(", ", rules[0].Spec.Subsets.Select(s => s.Name).Take(4));
            context.Report(RuleIds.SubsetNotFound, Severity.Error, vs, path,
                $"subset {subset} is in no DestinationRule for {d.Host} ({rules[0].Ref} has: {names}); add it there", rules.Select(r => r.Ref));
        }
        else
        {
            context.Report(new Awaited(ResourceKind.DestinationRule, $"a DestinationRule with subset {subset}"), RuleIds.SubsetNotFound,
                context.AbsenceIsEvidence(ResourceKind.DestinationRule) ? Severity.Error : Severity.Warning, vs, path,
                $"subset {subset} of {d.Host}: no DestinationRule defines it; add a DestinationRule with it");
        }
    }

    /// <summary>(c) a mesh leg applies to the sidecars of every namespace the VirtualService is exported to, and each looks
    /// its DestinationRules up from its own namespace: warn, naming the client namespaces (known from Namespace objects
    /// or the objects they hold; neither the root namespace nor the namespace of the gateway the route sends to, which
    /// run gateways, not clients) for which the subset is missing.</summary>
    /// <remarks>Cost follows the DestinationRules for the host, not the namespaces: a namespace that holds no DestinationRule
    /// for the host and is named by none's exportTo has the same lookup result as any other such namespace, so one of them
    /// is looked up for all.</remarks>
    private static void CheckClients(RuleContext context, VirtualService vs, DestinationRef d, string subset)
    {
        var root = context.Mesh.EffectiveRootNamespace;

        // the pods of a gateway's Service are that gateway, not clients of the mesh route that sends traffic to them
        var gatewayNamespace = GatewayChain.GatewayTargets(context.View, d.Host).Count > 0 ? HostName.NamespaceOf(d.Host) : null;
        var exportTo = vs.Spec.ExportTo.Count > 0 ? vs.Spec.ExportTo : context.Mesh.DefaultVirtualServiceExportTo;
        var all = exportTo.Count == 0 || exportTo.Contains("*");
        var rules = context.View.DestinationRules(d.Host).Select(m => m.Item).ToList();
        var special = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dr in rules)
        {
            special.Add(dr.Namespace);
            foreach (var e in dr.Spec.ExportTo)
            {
                special.Add(e);
            }
        }

        var missing = new List<string>();
        var others = 0;
        if (all)
        {
            // the namespaces with a DestinationRule for the host, or named by one's exportTo, each; then one of the rest for
            // all of them (found among the first few known namespaces: the skipped ones are at most special + 3)
            var skipped = new HashSet<string>(StringComparer.Ordinal) { vs.Namespace, root };
            if (gatewayNamespace is not null)
            {
                skipped.Add(gatewayNamespace);
            }

            var specialKnown = 0;
            foreach (var ns in special)
            {
                if (!context.View.IsKnownNamespace(ns))
                {
                    continue;
                }

                specialKnown++;
                if (!skipped.Contains(ns) && Misses(ns))
                {
                    missing.Add(ns);
                }
            }

            var representative = context.View.KnownNamespaces.FirstOrDefault(ns => !skipped.Contains(ns) && !special.Contains(ns));
            others = representative is null
                ? 0
                : context.View.KnownNamespaceCount - specialKnown - skipped.Count(ns => !special.Contains(ns) && context.View.IsKnownNamespace(ns));

            if (representative is null || !Misses(representative))
            {
                others = 0;
            }
            else if (missing.Count < 2)
            {
                missing.Add(representative);
                others--;
            }
        }
        else
        {
            foreach (var e in exportTo.Distinct(StringComparer.Ordinal))
            {
                var ns = e == "." ? vs.Namespace : e;
                if (ns != vs.Namespace && ns != root && ns != gatewayNamespace && ns != "~" && context.View.IsKnownNamespace(ns) && Misses(ns))
                {
                    missing.Add(ns);
                }
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        missing.Sort(StringComparer.Ordinal);
        var more = missing.Count - 2 + others;
        var names = string.Join(", ", missing.Take(2)) + (more > 0 ? $" (+{more})" : "");
        var home = HostName.NamespaceOf(d.Host) ?? root;
        context.Report(RuleIds.SubsetNotFound, Severity.Warning, vs, d.Path + ".subset",
            $"subset {subset} is missing for clients in {names} (each looks from its namespace); define it in {home}",
            rules.Where(r => Defines(r, subset)).Select(r => r.Ref));

        bool Misses(string ns) => !context.DestinationRulesOnLookupPath(d.Host, ns).Any(dr => Defines(dr, subset));
    }

    private static void CheckHost(RuleContext context, DestinationRule dr)
    {
        var host = EgressSnapshot.HostOf(dr);
        if (host.Length == 0 || IsCatchAll(host) || context.View.ServiceEntries(host).Count > 0 || context.View.Services(host).Count > 0)
        {
            return;
        }

        context.Report(Awaited.RegistryObjectFor(host), RuleIds.SubsetNotFound, Severity.Warning, dr, "spec.host",
            $"host {host} matches no ServiceEntry or Service, so this rule applies to nothing; fix the host or register it");
    }

    private static bool Defines(DestinationRule dr, string subset) => dr.Spec.Subsets.Any(s => s.Name == subset);

    private static bool IsCatchAll(string host) =>
        host == "*" || (HostName.IsWildcard(host) && ("." + HostName.ClusterDomain).EndsWith(host[1..], StringComparison.Ordinal));
}
