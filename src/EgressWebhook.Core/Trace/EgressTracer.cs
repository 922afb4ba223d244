using System.Globalization;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Rules.CrossResource;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Trace;

/// <summary>A step of the data plane the tracer does not know itself, consulted before the client sidecar's outbound
/// routing: the extension point for ambient mode (a waypoint in front of the client, issue 17).</summary>
public interface ITraceStage
{
    /// <summary>The hops this stage adds for a request from <paramref name="fromNamespace"/> to <paramref name="host"/>:
    /// <paramref name="port"/>, or null when it does not apply; <paramref name="end"/> set when the stage decides the trace.</summary>
    IReadOnlyList<TraceHop>? Enter(RuleContext context, string fromNamespace, string host, int port, out TraceStageEnd? end);
}

/// <summary>How a stage ends a trace.</summary>
/// <param name="End">Where it ends.</param>
/// <param name="Reason">Why, in one line.</param>
public sealed record TraceStageEnd(TraceEnd End, string Reason)
{
    /// <summary>The gateways the stage's path crossed, <c>ns/name</c> (a waypoint in ambient mode), for <see cref="EgressTrace.Via"/>.</summary>
    public IReadOnlyList<string> Via { get; init; } = [];

    /// <summary>The waypoint the path was meant to cross but bypasses, for <see cref="EgressTrace.BypassedWaypoint"/>.</summary>
    public string? Bypassed { get; init; }
}

/// <summary>Follows a request the way Envoy does, hop by hop, over a snapshot: client sidecar (Sidecar scope, outbound
/// policy) → mesh VirtualService match (host, SNI, port) → egress gateway Service port → targetPort → Gateway server
/// (port, TLS mode) → gateway VirtualService → ServiceEntry (resolution, endpoints), with the DestinationRule found at
/// each hop. Pure: no I/O, cost bounded by the objects matching the hosts on the path and <see cref="MaxGateways"/>.</summary>
/// <remarks>Every Istio semantic comes from the rules' helpers, so a trace and a finding never disagree:
/// <see cref="RuleContext.OutboundPolicyFor"/> and <see cref="RuleContext.ScopingSidecar"/> (sidecar scope),
/// <see cref="ServiceRegistry.ResolveDestination"/> (registry look-up, exportTo and Sidecar egress hosts),
/// <see cref="RuleContext.GatewayNamespace"/> (what a gateway sees), <see cref="RuleContext.IsExportedTo"/> (which
/// VirtualServices a proxy loads), <see cref="RuleContext.DestinationRulesOnLookupPath"/> (the first DestinationRule found
/// wins), <see cref="ServerHostBinding.Serves"/> (server hosts), <see cref="RouteRules"/> (which rule applies to which gateway).</remarks>
public sealed class EgressTracer
{
    /// <summary>How many gateways a trace crosses before it is taken for a loop.</summary>
    public const int MaxGateways = 8;

    /// <summary>The port traced when none is given and the registry declares none for the host.</summary>
    public const int DefaultPort = 443;

    private readonly IReadOnlyList<ITraceStage> _stages;

    /// <summary>A tracer with extra data-plane stages (<see cref="ITraceStage"/>), consulted in order.</summary>
    public EgressTracer(IEnumerable<ITraceStage>? stages = null) => _stages = stages?.ToArray() ?? [];

    /// <summary>The tracer with the sidecar data plane and the ambient one (<see cref="AmbientTraceStage"/>, which decides
    /// traces from ambient namespaces only).</summary>
    public static EgressTracer Default { get; } = new([new AmbientTraceStage()]);

    /// <summary>Traces a request from the sidecars of <paramref name="fromNamespace"/> to <paramref name="host"/>
    /// (a short name is resolved in <paramref name="fromNamespace"/>) on <paramref name="port"/>: when null, the lowest
    /// port the registry declares for the host, else <see cref="DefaultPort"/>.</summary>
    public EgressTrace Trace(EgressSnapshot snapshot, string fromNamespace, string host, int? port = null, RuleSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrEmpty(fromNamespace);
        ArgumentException.ThrowIfNullOrEmpty(host);
        return Trace(new RuleContext(SnapshotView.Of(snapshot), settings ?? RuleSettings.Default), fromNamespace, host, port);
    }

    /// <summary><see cref="Trace(EgressSnapshot, string, string, int?, RuleSettings?)"/> in an existing context (the egress
    /// map traces many requests over one snapshot and shares its caches).</summary>
    public EgressTrace Trace(RuleContext context, string fromNamespace, string host, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var resolved = HostName.Resolve(host, fromNamespace);
        var walk = new Walk(context, fromNamespace, resolved);
        return walk.Run(port, _stages);
    }

    private sealed class Walk(RuleContext context, string from, string host)
    {
        private readonly List<TraceHop> _hops = [];
        private readonly List<string> _via = [];
        private int _port;

        public EgressTrace Run(int? requestedPort, IReadOnlyList<ITraceStage> stages)
        {
            var policy = context.OutboundPolicyFor(from);
            var sidecarScope = new LegScope(from, true, policy);
            _port = requestedPort ?? FirstRegistryPort(sidecarScope) ?? DefaultPort;

            foreach (var stage in stages)
            {
                if (stage.Enter(context, from, host, _port, out var decided) is { } added)
                {
                    _hops.AddRange(added);
                    if (decided is { } stop)
                    {
                        _via.AddRange(stop.Via);
                        return Finish(stop.End, stop.Reason) with { BypassedWaypoint = stop.Bypassed };
                    }
                }
            }

            ClientHop(policy);
            var protocol = RegistryProtocol(host, _port, sidecarScope);
            if (!ServiceRegistry.IsIpOrCidr(host) && !context.ResolveDestination(host, sidecarScope).Found)
            {
                // the sidecar builds listeners from the registry it sees: a mesh route for a host it does not know is never
                // used, and the connection falls to the outbound policy (EGW103's semantics)
                if (FindRoute(GatewayRefs.Mesh, from, host, _port, protocol) is { } unused)
                {
                    Hop("VirtualService", unused.Vs.Namespace, unused.Vs.Name, "spec.hosts",
                        $"routes {host}, but no registry entry for it is visible to {from}: the sidecar has no listener for it", 0);
                }

                return Registry(host, _port, sidecarScope, 0, null, null);
            }

            if (FindRoute(GatewayRefs.Mesh, from, host, _port, protocol) is not { } route)
            {
                return Registry(host, _port, sidecarScope, 0, null, "no VirtualService bound to mesh routes it: the sidecar sends it to the host itself");
            }

            var (d, destPort) = RouteHop(route, host, _port, 0);
            DestinationRuleHop(d.Host, destPort, from, d.Destination.Subset, 0);
            return Onward(d.Host, destPort, sidecarScope, 0);
        }

        private void ClientHop(string policy)
        {
            var sidecar = context.ScopingSidecar(from);
            var scoped = sidecar is { Spec.Egress.Count: > 0 } ? $", egress hosts {string.Join(" ", sidecar.Spec.Egress.SelectMany(e => e.Hosts))}" : "";
            if (sidecar is not null && OutboundPolicies.Parse(sidecar.Spec.OutboundTrafficPolicy?.Mode) is not null)
            {
                Hop("Sidecar", sidecar.Namespace, sidecar.Name, "spec.outboundTrafficPolicy.mode", $"scopes the sidecars of {from}: outbound {policy}{scoped}", 0);
            }
            else if (sidecar is not null)
            {
                Hop("Sidecar", sidecar.Namespace, sidecar.Name, "spec.egress", $"scopes the sidecars of {from}{scoped}; outbound {policy} {PolicySource()}", 0);
            }
            else
            {
                var mesh = context.View.Snapshot.ConfiguredMesh;
                // the mesh config is read from ConfigMap istio/istio in the root namespace (or an IstioOperator fragment)
                Hop("MeshConfig", mesh is null ? "" : mesh.Namespace.Length > 0 ? mesh.Namespace : context.Mesh.EffectiveRootNamespace, mesh?.Name ?? "(default)", "outboundTrafficPolicy.mode",
                    $"no Sidecar scopes {from}: outbound {policy} {PolicySource()}", 0);
            }
        }

        private string PolicySource() =>
            OutboundPolicies.Parse(context.Policy.OutboundPolicy) is not null ? "(set by the settings)" :
            context.View.Snapshot.ConfiguredMesh is null ? "(Istio's default)" : "(mesh config)";

        /// <summary>Where a destination leads after the route that chose it: a gateway's Service, or the registry.</summary>
        private EgressTrace Onward(string destHost, int destPort, LegScope scope, int depth)
        {
            var targets = GatewayChain.GatewayTargets(context.View, destHost);
            return targets.Count > 0
                ? AtGateway(targets[0], destPort, depth + 1)
                : Registry(destHost, destPort, scope, depth, scope.Gateway, null);
        }

        private EgressTrace AtGateway(GatewayChain.GatewayTarget target, int servicePort, int depth)
        {
            var svc = target.Service;
            var index = IndexOf(svc.Spec.Ports, p => p.Port == servicePort);
            if (index < 0)
            {
                Hop("Service", svc.Namespace, svc.Name, "spec.ports", $"gateway Service has no port {servicePort} (ports {DescribePorts(svc)})", depth);
                return Finish(TraceEnd.Dropped, $"Service {svc.Namespace}/{svc.Name} has no port {servicePort}");
            }

            var sp = svc.Spec.Ports[index];
            var targetPort = int.TryParse(sp.TargetPort, NumberStyles.None, CultureInfo.InvariantCulture, out var tp) ? tp : servicePort;
            Hop("Service", svc.Namespace, svc.Name, $"spec.ports[{index}]", $"port {servicePort} → targetPort {sp.TargetPort ?? servicePort.ToString(CultureInfo.InvariantCulture)} on the gateway pods", depth);

            // the Gateway servers of this workload for the host, on the Service port or its targetPort (Istio IST0162)
            Gateway? gateway = null;
            var serverIndex = -1;
            foreach (var gw in target.Serving([host]))
            {
                serverIndex = IndexOf(gw.Spec.Servers, s => s is { Port: { } p } && (p.Number == servicePort || p.Number == targetPort) && ServerHostBinding.Serves(s, [host]));
                if (serverIndex >= 0)
                {
                    gateway = gw;
                    break;
                }
            }

            if (gateway is null)
            {
                return Finish(TraceEnd.Dropped, $"no Gateway server for {host} on port {servicePort} of the workload of Service {svc.Namespace}/{svc.Name}");
            }

            var server = gateway.Spec.Servers[serverIndex];
            var gwRef = GatewayChain.RefOf(gateway);
            Hop("Gateway", gateway.Namespace, gateway.Name, $"spec.servers[{serverIndex}]", $"server {GatewayChain.Describe(server)} for {string.Join(" ", server.Hosts)}", depth);
            if (_via.Contains(gwRef) || _via.Count >= MaxGateways)
            {
                return Finish(TraceEnd.Loop, $"back at Gateway {gwRef}, crossed before");
            }

            _via.Add(gwRef);
            var gatewayNamespace = context.GatewayNamespace(gateway);
            var scope = new LegScope(gatewayNamespace, false, context.MeshOutboundPolicy, gateway);
            var serverPort = server.Port!.Number;
            if (FindRoute(gwRef, gatewayNamespace, host, serverPort, server.Port.Protocol) is not { } route)
            {
                var unexported = FindRoute(gwRef, null, host, serverPort, server.Port.Protocol);
                return Finish(TraceEnd.Dropped, unexported is { } u
                    ? $"VirtualService {u.Vs.Namespace}/{u.Vs.Name} routes it at Gateway {gwRef} but is not exported to {gatewayNamespace}"
                    : $"no VirtualService bound to Gateway {gwRef} routes {host} on port {serverPort}");
            }

            var (d, destPort) = RouteHop(route, host, serverPort, depth);
            foreach (var own in GatewayChain.GatewayTargets(context.View, d.Host))
            {
                if (own.Selects(gateway))
                {
                    return Finish(TraceEnd.Loop, $"Gateway {gwRef} routes to Service {own.Service.Namespace}/{own.Service.Name}, its own workload");
                }
            }

            DestinationRuleHop(d.Host, destPort, gatewayNamespace, d.Destination.Subset, depth);
            return Onward(d.Host, destPort, scope, depth);
        }

        /// <summary>The registry look-up of the final destination, from <paramref name="scope"/>.</summary>
        private EgressTrace Registry(string destHost, int port, LegScope scope, int depth, Gateway? gateway, string? why)
        {
            var targets = context.ResolveDestination(destHost, scope);
            var where = gateway is null ? $"the sidecars of {scope.ClientNamespace}" : $"the gateway in {scope.ClientNamespace}";
            if (targets.ServiceEntries.Count == 0 && targets.Services.Count > 0)
            {
                var svc = targets.Services[0];
                var i = IndexOf(svc.Spec.Ports, p => p.Port == port);
                Hop("Service", svc.Namespace, svc.Name, i < 0 ? "spec.ports" : $"spec.ports[{i}]", $"Kubernetes Service: stays in the cluster{(i < 0 ? $" (no port {port})" : "")}", depth);
                return Finish(TraceEnd.Internal, $"{destHost} is Service {svc.Namespace}/{svc.Name}");
            }

            if (targets.ServiceEntries.Count > 0)
            {
                var se = targets.ServiceEntries[0];
                var i = IndexOf(se.Spec.Ports, p => p.Number == port);
                var endpoints = se.Spec.Endpoints.Count > 0 ? $"{se.Spec.Endpoints.Count} endpoint(s)" : "no endpoints";
                var more = targets.ServiceEntries.Count > 1 ? $" (+{targets.ServiceEntries.Count - 1} more)" : "";
                if (i >= 0)
                {
                    Hop("ServiceEntry", se.Namespace, se.Name, $"spec.ports[{i}]",
                        $"{se.Spec.EffectiveLocation}, resolution {se.Spec.EffectiveResolution}, {endpoints}, port {port}/{se.Spec.Ports[i].Protocol}{more}", depth);
                    if (gateway is not null && targets.Services.Count == 0 && targets.ServiceEntries.All(Egw115GatewayToNoneResolutionLoop.LoopsAtGateway))
                    {
                        return Finish(TraceEnd.Loop, $"resolution NONE without endpoints: the gateway forwards {destHost} to the original destination, itself");
                    }

                    DestinationRuleHop(destHost, port, scope.ClientNamespace, null, depth);
                    return Finish(TraceEnd.External, _via.Count == 0
                        ? $"{destHost}:{port} leaves directly from the sidecar{(why is null ? "" : $" ({why})")}"
                        : $"{destHost}:{port} leaves through {string.Join(", ", _via)}");
                }

                Hop("ServiceEntry", se.Namespace, se.Name, "spec.ports", $"declares {destHost} but not port {port} (ports {DescribePorts(se)}): no listener for it", depth);
            }

            foreach (var hidden in targets.HiddenByExportTo.Take(1))
            {
                // exportTo lets the client see it, so the mesh's serviceEntryVisibility (applyToSidecars) hides it
                if (ExportTo.IsVisible(hidden.Spec.ExportTo, hidden.Namespace, scope.ClientNamespace, context.Mesh.DefaultServiceExportTo))
                {
                    var field = ServiceEntryVisibility.Field(hidden, context.View) ?? "serviceEntryVisibility";
                    Hop("ServiceEntry", hidden.Namespace, hidden.Name, "metadata.namespace",
                        $"declares {destHost} but {field} makes it {context.VisibilityOf(hidden)} (applyToSidecars): hidden from {scope.ClientNamespace}", depth);
                    why ??= $"hidden by serviceEntryVisibility {context.VisibilityOf(hidden)}";
                }
                else
                {
                    Hop("ServiceEntry", hidden.Namespace, hidden.Name, "spec.exportTo", $"declares {destHost} but is not exported to {scope.ClientNamespace}", depth);
                }
            }

            foreach (var hidden in targets.HiddenBySidecar.Take(1))
            {
                Hop("ServiceEntry", hidden.Namespace, hidden.Name, "spec.hosts", $"declares {destHost} but the Sidecar of {scope.ClientNamespace} does not list it", depth);
            }

            var cluster = scope.FallbackCluster;
            Hop("Cluster", "", cluster, "", $"{destHost}:{port} is not registered for {where}: outbound {scope.OutboundPolicy}", depth);
            return Finish(scope.IsRegistryOnly ? TraceEnd.Blackhole : TraceEnd.Passthrough,
                $"traffic would go to {cluster}{(why is null ? "" : $" ({why})")}");
        }

        /// <summary>The first rule of a VirtualService bound to <paramref name="gatewayRef"/> and exported to
        /// <paramref name="exportedTo"/> (any namespace when null) that takes <paramref name="target"/> on <paramref name="port"/>:
        /// VirtualServices of the client's namespace first, then by namespace and name (a stable stand-in for Istio's
        /// creation-time order; EGW108 reports the duplicates this order decides between).</summary>
        private Route? FindRoute(string gatewayRef, string? exportedTo, string target, int port, string? protocol)
        {
            var candidates = context.View.VirtualServices(target).Select(m => m.Item).DistinctBy(vs => vs.Key)
                .Where(vs => EgressSnapshot.IsBoundTo(vs, gatewayRef) && (exportedTo is null || context.IsExportedTo(vs, exportedTo)))
                .OrderBy(vs => vs.Namespace == from ? 0 : 1).ThenBy(vs => vs.Namespace, StringComparer.Ordinal).ThenBy(vs => vs.Name, StringComparer.Ordinal);
            foreach (var kind in KindsFor(protocol))
            {
                foreach (var vs in candidates)
                {
                    foreach (var rule in context.RouteRulesOf(vs))
                    {
                        if (rule.Kind != kind || !rule.AppliesTo(gatewayRef) || rule.Destinations.Count == 0)
                        {
                            continue;
                        }

                        if (rule.Matches.Count == 0)
                        {
                            return new Route(vs, rule, null);
                        }

                        foreach (var m in rule.MatchesFor(gatewayRef))
                        {
                            if ((m.Port is null || m.Port == port) && (m.SniHosts.Count == 0 || m.SniHosts.Any(s => HostName.Matches(s, target))))
                            {
                                return new Route(vs, rule, m);
                            }
                        }
                    }
                }
            }

            return null;
        }

        /// <summary>Which rule lists Envoy consults for a port's protocol: http for HTTP ports; tls, then tcp for TLS ports;
        /// tcp for other declared protocols; all (tls, tcp, http) when the port is not declared.</summary>
        private static RouteKind[] KindsFor(string? protocol) =>
            protocol is null ? [RouteKind.Tls, RouteKind.Tcp, RouteKind.Http] :
            Protocols.IsHttp(protocol) ? [RouteKind.Http] :
            Protocols.IsTls(protocol) ? [RouteKind.Tls, RouteKind.Tcp] :
            [RouteKind.Tcp];

        private (DestinationRef Destination, int Port) RouteHop(Route route, string target, int port, int depth)
        {
            var d = route.Rule.Destinations[0];
            var destPort = d.Destination.Port?.Number ?? port;
            var match = route.Match is null ? "all traffic" : Describe(route.Match, port);
            var more = route.Rule.Destinations.Count > 1 ? $" (first of {route.Rule.Destinations.Count} weighted destinations)" : "";
            Hop("VirtualService", route.Vs.Namespace, route.Vs.Name, route.Match?.Path ?? route.Rule.Path,
                $"{route.Rule.Kind.ToString().ToLowerInvariant()} {match} → {d.Host}:{destPort}{(d.Destination.Subset is { } s ? $" subset {s}" : "")}{more}", depth);
            return (d, destPort);

            string Describe(RouteMatch m, int p) =>
                string.Join(" ", new[]
                {
                    m.SniHosts.Count > 0 ? $"sni {string.Join(",", m.SniHosts.Where(s => HostName.Matches(s, target)))}" : null,
                    m.Port is not null ? $"port {p}" : null,
                }.OfType<string>().DefaultIfEmpty("all traffic"));
        }

        private void DestinationRuleHop(string destHost, int port, string lookupFrom, string? subset, int depth)
        {
            var rules = context.DestinationRulesOnLookupPath(destHost, lookupFrom);
            if (rules.Count == 0)
            {
                return;
            }

            var dr = rules[0];
            var blocks = DestinationRuleTls.Blocks(dr.Spec).ToList();
            var tls = blocks.Find(b => b.Subset == subset && b.Port == port);
            if (tls == default)
            {
                tls = blocks.Find(b => b.Subset == subset && b.Port is null);
            }

            if (tls == default && subset is not null)
            {
                tls = blocks.Find(b => b.Subset is null && (b.Port == port || b.Port is null));
            }

            var note = $"first DestinationRule on the lookup path from {lookupFrom}: tls {(tls == default ? ClientTlsModes.Disable : tls.Tls.EffectiveMode)}";
            if (subset is not null && !dr.Spec.Subsets.Any(s => s?.Name == subset))
            {
                note += $"; subset {subset} is not defined here (no route)";
            }

            Hop("DestinationRule", dr.Namespace, dr.Name, tls == default ? "spec.trafficPolicy" : tls.Path, note, depth);
        }

        private int? FirstRegistryPort(LegScope scope)
        {
            var ports = context.ResolveDestination(host, scope).PortNumbers();
            return ports.Count > 0 ? ports.Min : null;
        }

        private string? RegistryProtocol(string target, int port, LegScope scope)
        {
            var targets = context.ResolveDestination(target, scope);
            foreach (var se in targets.ServiceEntries)
            {
                foreach (var p in se.Spec.Ports)
                {
                    if (p.Number == port && !string.IsNullOrEmpty(p.Protocol))
                    {
                        return p.Protocol;
                    }
                }
            }

            return null;
        }

        private void Hop(string kind, string ns, string name, string field, string note, int depth) =>
            _hops.Add(new TraceHop(kind, ns, name, field, note) { Depth = depth });

        private EgressTrace Finish(TraceEnd end, string reason) => new(from, host, _port, end, [.. _via], [.. _hops], reason);

        private static int IndexOf<T>(IReadOnlyList<T> list, Func<T, bool> predicate)
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i] is not null && predicate(list[i]))
                {
                    return i;
                }
            }

            return -1;
        }

        private static string DescribePorts(Service svc) => string.Join(", ", svc.Spec.Ports.Select(p => p.Port));

        private static string DescribePorts(ServiceEntry se) => string.Join(", ", se.Spec.Ports.Where(p => p is not null).Select(p => p.Number));
    }

    private sealed record Route(VirtualService Vs, RouteRule Rule, RouteMatch? Match);
}
