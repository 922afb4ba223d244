using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW107: (a) a destination <c>subset</c> is defined by no DestinationRule for that host on the client's
/// lookup path (error; IST0101 subset, KIA1107); (b) a DestinationRule's host matches no ServiceEntry and no
/// Service (warning; IST0174).</summary>
/// <remarks>
/// (a) The client namespace is the VirtualService's; the lookup path is <see cref="RuleContext.DestinationRulesOnLookupPath"/>
/// (client namespace, the host's own namespace, the root namespace, each honouring exportTo; the first with a
/// DestinationRule for the host wins, so a DR there without the subset hides one further along). A DR anywhere else
/// "will not be found on destination rule lookup path" (Istio docs). Hosts are compared as Istio resolves them: a name
/// with a dot, like <c>reviews.bookinfo</c>, is taken as written and is not <c>reviews.bookinfo.svc.cluster.local</c>.
/// Envoy gets a route to a cluster that does not exist: 503 with no healthy upstream. When the view holds no
/// DestinationRule at all (manifests checked without theirs), (a) is a warning.
/// (b) Catch-all hosts (<c>*</c>, <c>*.local</c>, <c>*.cluster.local</c>, <c>*.svc.cluster.local</c>: mesh-wide policy) are not judged.
/// </remarks>
internal sealed class Egw107SubsetNotFound : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.SubsetNotFound];

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

    /// <summary>For a DestinationRule: the VirtualServices routing to its host. For a ServiceEntry or Service: the
    /// DestinationRules whose host it declares.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => changed switch
    {
        DestinationRule dr => view.VirtualServicesRoutingTo(EgressSnapshot.HostOf(dr)).Select(m => m.Item).Distinct(),
        _ => Registry.HostsOfRegistryObject(changed).SelectMany(h => view.DestinationRules(h)).Select(m => m.Item).Distinct(),
    };

    private static void CheckSubsets(RuleContext context, VirtualService vs)
    {
        foreach (var d in context.DestinationsOf(vs))
        {
            if (d.Destination.Subset is not { Length: > 0 } subset)
            {
                continue;
            }

            var onPath = context.DestinationRulesOnLookupPath(d.Host, vs.Namespace);
            if (onPath.Any(dr => Defines(dr, subset)))
            {
                continue;
            }

            var path = d.Path + ".subset";
            if (onPath.Count > 0)
            {
                var dr = onPath[0];
                var names = dr.Spec.Subsets.Count == 0 ? "none" : string.Join(", ", dr.Spec.Subsets.Select(s => s.Name).Take(4));
                context.Report(RuleIds.SubsetNotFound, Severity.Error, vs, path,
                    $"subset {subset} is not in {dr.Ref} (subsets: {names}), first on the lookup path; add it there", onPath.Select(r => r.Ref));
                continue;
            }

            var elsewhere = context.View.DestinationRules(d.Host).Select(m => m.Item).Where(dr => Defines(dr, subset)).Distinct().ToList();
            if (elsewhere.Count > 0)
            {
                context.Report(RuleIds.SubsetNotFound, Severity.Error, vs, path,
                    $"subset {subset} is only in {elsewhere[0].Ref}, off the lookup path of {vs.Namespace}; move it to {HostName.NamespaceOf(d.Host) ?? vs.Namespace}",
                    elsewhere.Select(r => r.Ref));
            }
            else
            {
                // with no DestinationRule in the view at all the input simply lacks them: absence proves nothing
                context.Report(new Awaited(ResourceKind.DestinationRule, $"a DestinationRule with subset {subset}"), RuleIds.SubsetNotFound, context.View.HasAny(ResourceKind.DestinationRule) ? Severity.Error : Severity.Warning, vs, path,
                    $"subset {subset} of {d.Host}: no DestinationRule defines it for {vs.Namespace}; add a DestinationRule with it");
            }
        }
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
