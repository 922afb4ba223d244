using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Tests.Rules.Guardrails;

/// <summary>The EgressPolicy setup and objects the guardrail rule tests (EGW301..EGW308) share: a policy is an object of
/// the input, as in a manifest or the cluster; it selects namespace <c>team-a</c> unless told otherwise.</summary>
internal static class GuardrailFixtures
{
    internal const string Team = "team-a";

    internal const string AllowExampleCom = "allow: [{hosts: [\"*.example.com\"], ports: [443], protocols: [TLS, HTTPS]}]";

    internal static EgressReport Check(params string[] docs) => RuleChecks.Check(docs);

    internal static EgressReport Check(RuleSettings settings, params string[] docs) => RuleChecks.Check(settings, docs);

    internal static List<Finding> Of(EgressReport report, string rule) => RuleChecks.Of(report, rule);

    /// <summary>An EgressPolicy selecting namespace <paramref name="ns"/> by its name label (null: every namespace);
    /// <paramref name="spec"/> is the rest of its <c>spec</c>, one field a line.</summary>
    internal static string PolicyYaml(string name, string spec, string? ns = Team) => $$"""
        apiVersion: egress.webhook.dev/v1alpha1
        kind: EgressPolicy
        metadata: {name: {{name}}}
        spec:
        {{(ns is null ? "" : $"  namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {ns}}}}}")}}
        {{Indent(spec)}}
        """;

    internal static string Se(string name, string host, string ns = Team, string ports = "[{number: 443, name: tls, protocol: TLS}]",
        string resolution = "DNS", string extra = "", string labels = "{}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{name}}, namespace: {{ns}}, labels: {{labels}}}
        spec:
          hosts: ["{{host}}"]
          ports: {{ports}}
          resolution: {{resolution}}
        {{Indent(extra)}}
        """;

    /// <summary>A VirtualService with one tls route for <paramref name="host"/> to <paramref name="dest"/>.</summary>
    internal static string Vs(string name, string host, string dest, string ns = Team, string gateways = "[mesh]", string extra = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          hosts: ["{{host}}"]
          gateways: {{gateways}}
          tls:
          - match: [{port: 443, sniHosts: ["{{host}}"]}]
            route:
            - destination: {host: "{{dest}}", port: {number: 443} }
        {{Indent(extra)}}
        """;

    internal static string Dr(string name, string host, string ns = Team, string extra = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          host: "{{host}}"
        {{Indent(extra)}}
        """;

    internal static string Sidecar(string egressHosts, string mode = "", string ns = Team) => RuleChecks.Sidecar(ns, egressHosts, mode);

    internal static string Mesh(string meshYaml) => RuleChecks.Mesh(meshYaml);

    internal static readonly string RegistryOnly = Mesh("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY");

    internal const string EgressGatewayService = """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system, labels: {istio: egressgateway}}
        spec:
          selector: {istio: egressgateway}
          ports: [{name: https, port: 443, targetPort: 8443}]
        """;

    internal static string Service(string name, string ns, string ports = "[{name: http, port: 80}]") => RuleChecks.Service(name, ns, ports);

    internal static string Namespace(string name, string labels) => RuleChecks.Namespace(name, labels);

    /// <summary>A Gateway API Gateway with one HBONE listener on 15008; <paramref name="from"/> its allowedRoutes.namespaces.from (empty: unset).</summary>
    internal static string Waypoint(string name, string ns, string from = "All", string gatewayClass = "istio-waypoint", string labels = "{}") => $$"""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: {{name}}, namespace: {{ns}}, labels: {{labels}}}
        spec:
          gatewayClassName: {{gatewayClass}}
          listeners:
          - name: mesh
            port: 15008
            protocol: HBONE
        {{(from.Length > 0 ? $"    allowedRoutes: {{namespaces: {{from: {from}}}}}" : "")}}
        """;

    private static string Indent(string lines) => lines.Length == 0 ? "" : string.Join('\n', lines.Split('\n').Select(l => "  " + l));
}
