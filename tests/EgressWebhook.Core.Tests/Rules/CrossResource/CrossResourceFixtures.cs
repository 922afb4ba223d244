using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Tests.Rules.CrossResource;

/// <summary>The objects and checks the cross-resource rule tests (EGW101..EGW118) share.</summary>
internal static class CrossResourceFixtures
{
    internal static readonly string RegistryOnly = RuleChecks.Mesh("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY");

    internal static EgressReport Check(params string[] docs) => RuleChecks.Check(docs);

    internal static EgressReport CheckChange(string changed, params string[] existing) => RuleChecks.CheckChange(changed, existing);

    internal static string Se(string name, string host, string ns = "default", string extra = "", string ports = "[{number: 443, name: tls, protocol: TLS}]", string resolution = "DNS") => $$"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          hosts: ["{{host}}"]
          ports: {{ports}}
          resolution: {{resolution}}
        {{extra}}
        """;

    /// <summary>A VirtualService with one tls route to <paramref name="dest"/>; <paramref name="gateways"/> as a YAML list.</summary>
    internal static string Vs(string host, string dest, string ns = "default", string gateways = "[mesh]", string destExtra = "port: {number: 443}") => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: vs, namespace: {{ns}}}
        spec:
          hosts: ["{{host}}"]
          gateways: {{gateways}}
          tls:
          - match: [{port: 443, sniHosts: ["{{host}}"]}]
            route:
            - destination: {host: "{{dest}}", {{destExtra}}}
        """;

    internal static string EgressGateway(string host, string ns = "default", string name = "egress", string selector = "{istio: egressgateway}", string extra = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          selector: {{selector}}
          servers:
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: ["{{host}}"]
            tls: {mode: PASSTHROUGH}
        {{extra}}
        """;

    /// <summary>The egress gateway's Service (Istio's default: 80→8080, 443→8443), selecting <c>istio: egressgateway</c>.</summary>
    internal static string GatewayService(string name = "istio-egressgateway", string ns = "istio-system",
        string selector = "{istio: egressgateway, app: istio-egressgateway}",
        string ports = "[{name: http2, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]") => $$"""
        apiVersion: v1
        kind: Service
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          selector: {{selector}}
          ports: {{ports}}
        """;

    internal static string Sidecar(string ns, string hosts, string mode = "") => RuleChecks.Sidecar(ns, hosts, mode);

    internal static List<Finding> Of(EgressReport report, string rule) => RuleChecks.Of(report, rule);

    internal static string Dr(string ns, string host, string subset, string extra = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: dr, namespace: {{ns}}}
        spec:
          host: "{{host}}"
          subsets: [{name: {{subset}}}]
        {{extra}}
        """;

    internal const string Reviews = """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: bookinfo}
        spec:
          ports: [{name: http, port: 9080}]
        """;

    internal static string ReviewsVs(string host = "reviews.bookinfo.svc.cluster.local") =>
        Vs("reviews.bookinfo.svc.cluster.local", host, ns: "frontend", destExtra: "subset: v1");
}
