using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>The engine for the admission tests: <see cref="EgressEngine.Default"/> once the catalogue has EGW101;
/// until the rules branch is merged, an engine with this minimal EGW101 (a route destination host that no visible
/// ServiceEntry or Service registers; error under REGISTRY_ONLY) built on Core's shared semantics.</summary>
internal sealed class MissingHostStandIn : IEgressRule
{
    public static EgressEngine Engine { get; } = RuleCatalog.All.Any(r => r.Ids.Contains(RuleIds.DestinationHostNotRegistered))
        ? EgressEngine.Default
        : new EgressEngine([new MissingHostStandIn()]);

    public IReadOnlyList<string> Ids { get; } = [RuleIds.DestinationHostNotRegistered];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        var vs = (VirtualService)subject;
        foreach (var d in RouteDestinations.Of(vs))
        {
            if (context.VisibleServiceEntries(d.Host, vs.Namespace, sidecarScoped: false).Count == 0 &&
                context.VisibleServices(d.Host, vs.Namespace, sidecarScoped: false).Count == 0)
            {
                context.Report(RuleIds.DestinationHostNotRegistered, context.ErrorIfRegistryOnly(vs.Namespace), vs, d.Path,
                    $"destination host {d.Host} is not registered by any ServiceEntry or Service; add a ServiceEntry for it");
            }
        }
    }
}
