using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Tests.Rules.Ambient;

/// <summary>The objects and checks the ambient rule tests (EGW501..EGW508) share: Istio's ambient egress setup
/// (<c>istio-corpus/ambient/01</c>) in small pieces.</summary>
internal static class AmbientFixtures
{
    internal const string UseWaypoint = "istio.io/use-waypoint";

    internal static EgressReport Check(params string[] docs) => RuleChecks.Check(docs);

    internal static EgressReport Check(RuleSettings settings, params string[] docs) => RuleChecks.Check(settings, docs);

    /// <summary>Admission of <paramref name="changed"/> into <paramref name="existing"/> (<see cref="CrossResource.CrossResourceFixtures.CheckChange"/>).</summary>
    internal static EgressReport CheckChange(string changed, params string[] existing) => RuleChecks.CheckChange(changed, existing);

    internal static List<Finding> Of(EgressReport report, string rule) => RuleChecks.Of(report, rule);

    /// <summary>A Namespace; <paramref name="labels"/> a YAML map.</summary>
    internal static string Namespace(string name, string labels = "{}") => RuleChecks.Namespace(name, labels);

    /// <summary>A Namespace labelled <c>istio.io/dataplane-mode=ambient</c>, with more labels in <paramref name="more"/>
    /// (<c>", key: value"</c>).</summary>
    internal static string AmbientNamespace(string name, string more = "") => Namespace(name, $"{{istio.io/dataplane-mode: ambient{more}}}");

    /// <summary>A waypoint Gateway (class <c>istio-waypoint</c>, HBONE listener on 15008); <paramref name="labels"/> a YAML
    /// map, <paramref name="allowedRoutes"/> the listener's <c>allowedRoutes</c> as YAML, <paramref name="extra"/> more
    /// top-level fields (<c>status</c>).</summary>
    internal static string Waypoint(string ns = "istio-egress", string name = "waypoint", string labels = "{istio.io/waypoint-for: service}",
        string className = "istio-waypoint", string allowedRoutes = "", string extra = "") => $$"""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: {{name}}, namespace: {{ns}}, labels: {{labels}}}
        spec:
          gatewayClassName: {{className}}
          listeners:
          - name: mesh
            port: 15008
            protocol: HBONE
        {{(allowedRoutes.Length == 0 ? "" : "    allowedRoutes: " + allowedRoutes)}}
        {{extra}}
        """;

    /// <summary>A ServiceEntry; <paramref name="hosts"/> and <paramref name="ports"/> as YAML lists, <paramref name="labels"/>
    /// a YAML map, <paramref name="extra"/> more <c>spec</c> lines.</summary>
    internal static string Entry(string name = "httpbin-org", string ns = "istio-egress", string hosts = "[httpbin.org]", string labels = "{}",
        string ports = "[{number: 80, name: http, protocol: HTTP}]", string resolution = "DNS", string extra = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{name}}, namespace: {{ns}}, labels: {{labels}}}
        spec:
          hosts: {{hosts}}
          ports: {{ports}}
          resolution: {{resolution}}
        {{extra}}
        """;

    /// <summary>An entry bound by its own label to <c>waypoint</c> (in <paramref name="waypointNamespace"/> when given).</summary>
    internal static string BoundEntry(string ns = "istio-egress", string waypointNamespace = "", string hosts = "[httpbin.org]",
        string ports = "[{number: 80, name: http, protocol: HTTP}]", string resolution = "DNS", string extra = "") =>
        Entry(ns: ns, hosts: hosts, ports: ports, resolution: resolution, extra: extra,
            labels: waypointNamespace.Length == 0 ? $"{{{UseWaypoint}: waypoint}}" : $"{{{UseWaypoint}: waypoint, istio.io/use-waypoint-namespace: {waypointNamespace}}}");

    /// <summary>Istio's ambient egress task: an ambient client namespace, the egress namespace enrolled in its waypoint,
    /// the waypoint. Add an entry of <c>istio-egress</c>.</summary>
    internal static string[] EgressSetup() =>
        [AmbientNamespace("default"), AmbientNamespace("istio-egress", $", {UseWaypoint}: waypoint"), Waypoint()];
}
