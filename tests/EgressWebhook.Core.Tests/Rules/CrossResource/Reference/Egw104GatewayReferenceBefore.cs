using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

// The rule as it was at 2ce787f (before the VirtualService rules shared their per-destination work and made nothing
// past the finding cap): the reference VirtualServiceSharedPathEquivalenceTests holds the rule to.
namespace EgressWebhook.Core.Tests.Rules.CrossResource.Reference;

/// <summary>EGW104: gateway references of a VirtualService. (a) a <c>spec.gateways</c> or <c>match[].gateways</c>
/// entry other than <c>mesh</c> names no existing Gateway (error; IST0101, KIA1102); (b) no VirtualService host is
/// admitted by any server host of a Gateway in <c>spec.gateways</c> (warning; IST0132); (c) a match-level gateway is
/// not in <c>spec.gateways</c>, so the rule never runs there (warning); (d) the VirtualService is not exported to the
/// namespace of a referenced Gateway's workload (<see cref="RuleContext.GatewayNamespace"/>), so that gateway never loads
/// it (error; Istio <c>VirtualServicesForGateway</c>).</summary>
/// <remarks>(b) follows Istio's check per referenced Gateway: server hosts <c>[ns/]dnsName</c> admit the
/// VirtualService's namespace (<c>./</c> = the Gateway's namespace, <c>*/</c> or none = any) and their dnsName must
/// <see cref="HostName.Matches"/> a VirtualService host. Gateway API Gateways (<c>gateway.networking.k8s.io</c>) are
/// not read, so a reference to one is reported as missing. (a) is a warning, not an error, when the view holds no
/// Gateway at all: then the input simply does not include Gateways, and absence proves nothing.</remarks>
internal sealed class Egw104GatewayReferenceBefore : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.GatewayReference];

    /// <summary>A Gateway that is not there.</summary>
    public IReadOnlyList<ResourceKind> RestsOnMissing { get; } = [ResourceKind.Gateway];

    public bool AppliesTo(ResourceKind kind) => kind == ResourceKind.VirtualService;

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not VirtualService vs)
        {
            return;
        }

        for (var i = 0; i < vs.Spec.Gateways.Count; i++)
        {
            var written = vs.Spec.Gateways[i];
            if (written == GatewayRefs.Mesh)
            {
                continue;
            }

            var resolved = GatewayRefs.Resolve(written, vs.Namespace);
            if (context.View.Gateway(resolved) is not { } gateway)
            {
                ReportMissing(context, vs, resolved, $"spec.gateways[{i}]");
            }
            else if (context.GatewayNamespace(gateway) is var g && !context.IsExportedTo(vs, g))
            {
                // (d) Istio builds a gateway's routes from the VirtualServices bound to it that are exported to its namespace
                context.Report(RuleIds.GatewayReference, Severity.Error, vs, "spec.exportTo",
                    $"Gateway {resolved} runs in {g}, where this is not exported, so it is never loaded; add {g} to exportTo",
                    gateway.Ref);
            }
            else if (!AdmitsAnyHost(gateway, vs))
            {
                var serverHosts = gateway.Spec.Servers.SelectMany(s => s.Hosts).Distinct().ToList();
                var listed = serverHosts.Count == 0 ? "no server hosts" : "servers: " + string.Join(", ", serverHosts.Take(3)) + (serverHosts.Count > 3 ? ", …" : "");
                context.Report(RuleIds.GatewayReference, Severity.Warning, vs, $"spec.gateways[{i}]",
                    $"no host ({string.Join(", ", vs.Spec.Hosts.Take(2))}) is a server host of Gateway {resolved} ({listed}); add it there",
                    gateway.Ref);
            }
        }

        // the match-level lists in field order, in plain loops (no copy of them is needed)
        var bound = GatewayRefs.Of(vs);
        var spec = vs.Spec;
        for (var i = 0; i < spec.Http.Count; i++)
        {
            for (var j = 0; j < spec.Http[i].Match.Count; j++)
            {
                CheckMatch(context, vs, bound, "http", i, j, spec.Http[i].Match[j].Gateways);
            }
        }

        for (var i = 0; i < spec.Tls.Count; i++)
        {
            for (var j = 0; j < spec.Tls[i].Match.Count; j++)
            {
                CheckMatch(context, vs, bound, "tls", i, j, spec.Tls[i].Match[j].Gateways);
            }
        }

        for (var i = 0; i < spec.Tcp.Count; i++)
        {
            for (var j = 0; j < spec.Tcp[i].Match.Count; j++)
            {
                CheckMatch(context, vs, bound, "tcp", i, j, spec.Tcp[i].Match[j].Gateways);
            }
        }
    }

    /// <summary>VirtualServices that name the changed Gateway.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Gateway gw ? view.VirtualServicesBoundTo($"{gw.Namespace}/{gw.Name}") : [];

    /// <summary>The <c>gateways</c> of match <paramref name="j"/> of rule <paramref name="i"/> in <paramref name="list"/>.</summary>
    private static void CheckMatch(RuleContext context, VirtualService vs, IReadOnlyList<string> bound, string list, int i, int j, IReadOnlyList<string> gateways)
    {
        for (var k = 0; k < gateways.Count; k++)
        {
            var resolved = GatewayRefs.Resolve(gateways[k], vs.Namespace);
            // a missing gateway that spec.gateways also names is reported there once
            if (resolved != GatewayRefs.Mesh && !bound.Contains(resolved) && context.View.Gateway(resolved) is null)
            {
                ReportMissing(context, vs, resolved, $"spec.{list}[{i}].match[{j}].gateways[{k}]");
            }

            if (!bound.Contains(resolved))
            {
                context.Report(RuleIds.GatewayReference, Severity.Warning, vs, $"spec.{list}[{i}].match[{j}].gateways[{k}]",
                    $"match gateway {resolved} is not in spec.gateways ({string.Join(", ", bound)}), so the rule never runs there; add it");
            }
        }
    }

    /// <summary>(a): an error; a warning when partial input holds no Gateway at all, where absence is not evidence
    /// (an offline check of manifests that do not include the Gateways). Against the whole cluster, always an error.</summary>
    private static void ReportMissing(RuleContext context, VirtualService vs, string resolved, string path) =>
        context.Report(AwaitedGateway(resolved), RuleIds.GatewayReference,
            context.AbsenceIsEvidence(ResourceKind.Gateway) ? Severity.Error : Severity.Warning, vs, path,
            $"Gateway {resolved} does not exist; create it or fix the reference (ns/name, or name in {vs.Namespace})");

    /// <summary>The missing Gateway, by name when <paramref name="resolved"/> is <c>ns/name</c>.</summary>
    private static Awaited AwaitedGateway(string resolved) => resolved.IndexOf('/', StringComparison.Ordinal) is var slash and > 0 && slash < resolved.Length - 1
        ? Awaited.Named(ResourceKind.Gateway, resolved[..slash], resolved[(slash + 1)..], $"Gateway {resolved}")
        : new Awaited(ResourceKind.Gateway, $"Gateway {resolved}");

    private static bool AdmitsAnyHost(Gateway gateway, VirtualService vs)
    {
        var servers = gateway.Spec.Servers;
        for (var i = 0; i < servers.Count; i++)
        {
            for (var j = 0; j < servers[i].Hosts.Count; j++)
            {
                for (var k = 0; k < vs.Spec.Hosts.Count; k++)
                {
                    if (ServerHostBinding.Admits(servers[i].Hosts[j], gateway.Namespace, vs.Namespace, vs.Spec.Hosts[k]))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }
}
