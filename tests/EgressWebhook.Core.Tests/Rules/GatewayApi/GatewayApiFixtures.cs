using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Tests.Rules.GatewayApi;

/// <summary>The objects the Gateway API egress rule tests (EGW511..EGW515) share: Istio's egress-gateway task, Gateway
/// API tab (ServiceEntry <c>cnn</c>, Gateway <c>cnn-egress-gateway</c>, a first route with the entry as parent, a second
/// one with the Gateway as parent and a <c>kind: Hostname</c> backend).</summary>
internal static class GatewayApiFixtures
{
    internal const string SeParent = "[{kind: ServiceEntry, group: networking.istio.io, name: cnn}]";

    internal const string GatewayParent = "[{name: cnn-egress-gateway}]";

    internal const string ToGatewayService = "[{name: cnn-egress-gateway-istio, port: 443}]";

    internal const string TlsPassthrough = "{name: tls, hostname: edition.cnn.com, port: 443, protocol: TLS, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: Same}}}";

    internal static EgressReport Check(params string[] docs) => RuleChecks.Check(docs);

    internal static EgressReport Check(RuleSettings settings, params string[] docs) => RuleChecks.Check(settings, docs);

    internal static List<Finding> Of(EgressReport report, string rule) => RuleChecks.Of(report, rule);

    internal static string ToHostname(string host = "edition.cnn.com", string port = "443") =>
        $"[{{kind: Hostname, group: networking.istio.io, name: {host}{(port.Length > 0 ? $", port: {port}" : "")}}}]";

    internal static string Se(string name = "cnn", string host = "edition.cnn.com", string ns = "default", string ports = "[{number: 443, name: tls, protocol: TLS}]",
        string resolution = "DNS") => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          hosts: ["{{host}}"]
          ports: {{ports}}
          resolution: {{resolution}}
        """;

    /// <summary>A Gateway API Gateway; <paramref name="listeners"/> a YAML flow list.</summary>
    internal static string Gateway(string listeners = $"[{TlsPassthrough}]", string name = "cnn-egress-gateway", string ns = "default", string gatewayClass = "istio") => $$"""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          gatewayClassName: {{gatewayClass}}
          listeners: {{listeners}}
        """;

    /// <summary>A route of <paramref name="kind"/>; parents, backends and hostnames as YAML flow lists.</summary>
    internal static string Route(string name, string parents, string backends, string kind = "TLSRoute", string hostnames = "[]", string ns = "default") => $$"""
        apiVersion: gateway.networking.k8s.io/{{(kind == "HTTPRoute" ? "v1" : "v1alpha2")}}
        kind: {{kind}}
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          parentRefs: {{parents}}
          hostnames: {{hostnames}}
          rules:
          - backendRefs: {{backends}}
        """;

    /// <summary>The first leg: the entry's traffic to the gateway's Service.</summary>
    internal static string FirstRoute(string parents = SeParent, string backends = ToGatewayService) => Route("direct-cnn-to-egress-gateway", parents, backends);

    /// <summary>The second leg: from the gateway to the external host.</summary>
    internal static string SecondRoute(string parents = GatewayParent, string backends = "", string kind = "TLSRoute", string hostnames = "[edition.cnn.com]", string ns = "default") =>
        Route("forward-cnn-from-egress-gateway", parents, backends.Length > 0 ? backends : ToHostname(), kind, hostnames, ns);

    internal static string Service(string name, string ns = "default", string ports = "[{name: tls, port: 443}]") => RuleChecks.Service(name, ns, ports);

    internal static string Namespace(string name, string labels) => RuleChecks.Namespace(name, labels);
}
