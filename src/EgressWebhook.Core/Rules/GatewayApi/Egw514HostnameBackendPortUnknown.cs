using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.GatewayApi;

/// <summary>EGW514: a route's <c>kind: Hostname</c> backend (<c>group: networking.istio.io</c>) names a host no
/// ServiceEntry declares, or a port the entries of that host do not declare.</summary>
/// <remarks>Istio resolves a Hostname backend to the registry service of that host and port (the egress-gateway task's
/// second route, <c>backendRefs: [{kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 443}]</c>): it
/// needs a ServiceEntry for the host (exact, or a wildcard covering it) with that port number, else the route has no
/// cluster to send to (<c>BackendNotFound</c>) and the gateway answers 500 or resets. Error; a missing entry is an
/// incompleteness.</remarks>
internal sealed class Egw514HostnameBackendPortUnknown : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.HostnameBackendPortUnknown];

    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.ServiceEntry];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.GatewayApiRoute;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not GatewayApiRoute route)
        {
            return;
        }

        foreach (var (path, backend) in RouteRefs.Backends(route))
        {
            if (!backend.IsHostname || backend.Name.Length == 0)
            {
                continue;
            }

            var entries = context.View.ServiceEntries(backend.Name).Where(m => HostName.SubsetOf(backend.Name, m.Host)).Select(m => m.Item).Distinct().ToList();
            if (entries.Count == 0)
            {
                context.Report(new Awaited(ResourceKind.ServiceEntry, $"a ServiceEntry for {backend.Name}"), RuleIds.HostnameBackendPortUnknown, Severity.Error,
                    route, $"{path}.name", $"no ServiceEntry declares {backend.Name}: the Hostname backend has no service; add one");
                continue;
            }

            if (backend.Port is { } port && !entries.Any(e => e.Spec.Ports.Any(p => p.Number == port)))
            {
                var first = entries.OrderBy(e => e.Namespace, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).First();
                context.Report(RuleIds.HostnameBackendPortUnknown, Severity.Error, route, $"{path}.port",
                    $"port {port} is not a port of ServiceEntry {first.Namespace}/{first.Name} ({string.Join(", ", first.Spec.Ports.Select(p => p.Number))}) " +
                    $"for {backend.Name}; use one or declare it", entries.Select(e => e.Ref));
            }
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is ServiceEntry se
            ? RouteRefs.All(view).Where(r => RouteRefs.Backends(r).Any(b => b.Backend.IsHostname && se.Spec.Hosts.Any(h => HostName.SubsetOf(b.Backend.Name, HostName.Resolve(h, se.Namespace)))))
            : [];
}
