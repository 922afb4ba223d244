using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

/// <summary>EGW102: a destination <c>port.number</c> is not a port number of the ServiceEntry/Service its host
/// resolves to (IST0101 host:port), or no port is given and the target has more than one port (IST0112).</summary>
/// <remarks>Compares ServiceEntry <c>ports[].number</c> and Service <c>ports[].port</c>, never a targetPort: a route
/// addresses the service port, and the proxy translates to the targetPort itself. A destination the client cannot
/// resolve at all is EGW101's; a target without ports (invalid on its own) is not judged here.</remarks>
internal sealed class Egw102DestinationPortUnknown : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.DestinationPortUnknown];

    /// <summary>A port the registry object of the host lacks.</summary>
    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.ServiceEntry, ResourceKind.Service];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        var destinations = context.DestinationsOf(vs);
        for (var i = 0; i < destinations.Count; i++)
        {
            var d = destinations[i];
            // the first place the leg runs that resolves the host (the others are EGW101's)
            var targets = FirstFound(context, vs, d);
            var portCount = targets?.PortCountUpToTwo() ?? 0;
            if (targets is null || portCount == 0)
            {
                continue;
            }

            if (d.Destination.Port?.Number is { } number)
            {
                if (!targets.HasPort(number))
                {
                    context.Report(RuleIds.DestinationPortUnknown, Severity.Error, vs, d.Path + ".port.number",
                        $"port {number} is not a port of {targets.DescribeTargets()} (ports: {targets.DescribePorts()}); {Fix(targets, number, targets.PortNumbers())}",
                        targets.Refs);
                }
            }
            else if (portCount > 1)
            {
                context.Report(RuleIds.DestinationPortUnknown, Severity.Error, vs, d.Path,
                    $"{d.Host} has several ports in {targets.DescribeTargets()} ({targets.DescribePorts()}); set destination.port.number",
                    targets.Refs);
            }
        }
    }

    /// <summary>What <paramref name="d"/>'s host resolves to in the first place its leg runs that finds it, else null.</summary>
    private static RegistryTargets? FirstFound(RuleContext context, VirtualService vs, DestinationRef d)
    {
        var scopes = context.ScopesOf(vs, d.Gateways);
        for (var i = 0; i < scopes.Count; i++)
        {
            var targets = context.ResolveDestination(d.Host, scopes[i]);
            if (targets.Found)
            {
                return targets;
            }
        }

        return null;
    }

    /// <summary>VirtualServices routing to a host the changed ServiceEntry or Service declares (a port change breaks them).</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        ServiceRegistry.VirtualServicesRoutingToRegistryObject(changed, view);

    /// <summary>"use 443", naming the service port when the number given is its targetPort ("use 443, not its targetPort 8443").</summary>
    private static string Fix(RegistryTargets targets, int number, SortedSet<int> ports)
    {
        foreach (var svc in targets.Services)
        {
            foreach (var p in svc.Spec.Ports)
            {
                if (p.TargetPort == number.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    return $"use {p.Port}, not its targetPort {number}";
                }
            }
        }

        foreach (var se in targets.ServiceEntries)
        {
            foreach (var p in se.Spec.Ports)
            {
                if (p.TargetPort == number)
                {
                    return $"use {p.Number}, not its targetPort {number}";
                }
            }
        }

        return ports.Count == 1 ? $"use {ports.Min}" : "use one of them";
    }
}
