using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Rules.CrossResource;

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
internal sealed class Egw104GatewayReference : IEgressRule
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

        var bound = GatewayRefs.Of(vs);
        CheckMatches(context, vs, bound, "http", vs.Spec.Http.Select(r => r.Match.Select(m => m.Gateways).ToList()).ToList());
        CheckMatches(context, vs, bound, "tls", vs.Spec.Tls.Select(r => r.Match.Select(m => m.Gateways).ToList()).ToList());
        CheckMatches(context, vs, bound, "tcp", vs.Spec.Tcp.Select(r => r.Match.Select(m => m.Gateways).ToList()).ToList());
    }

    /// <summary>VirtualServices that name the changed Gateway.</summary>
    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) =>
        changed is Gateway gw ? view.VirtualServicesBoundTo($"{gw.Namespace}/{gw.Name}") : [];

    private static void CheckMatches(RuleContext context, VirtualService vs, IReadOnlyList<string> bound, string list, List<List<IReadOnlyList<string>>> rules)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            for (var j = 0; j < rules[i].Count; j++)
            {
                var gateways = rules[i][j];
                for (var k = 0; k < gateways.Count; k++)
                {
                    var path = $"spec.{list}[{i}].match[{j}].gateways[{k}]";
                    var resolved = GatewayRefs.Resolve(gateways[k], vs.Namespace);
                    // a missing gateway that spec.gateways also names is reported there once
                    if (resolved != GatewayRefs.Mesh && !bound.Contains(resolved) && context.View.Gateway(resolved) is null)
                    {
                        ReportMissing(context, vs, resolved, path);
                    }

                    if (!bound.Contains(resolved))
                    {
                        context.Report(RuleIds.GatewayReference, Severity.Warning, vs, path,
                            $"match gateway {resolved} is not in spec.gateways ({string.Join(", ", bound)}), so the rule never runs there; add it");
                    }
                }
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

    private static bool AdmitsAnyHost(Gateway gateway, VirtualService vs) =>
        gateway.Spec.Servers.Any(server => server.Hosts.Any(serverHost =>
            vs.Spec.Hosts.Any(h => ServerHostBinding.Admits(serverHost, gateway.Namespace, vs.Namespace, h))));
}
