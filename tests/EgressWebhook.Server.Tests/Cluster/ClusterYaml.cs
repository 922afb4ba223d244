namespace EgressWebhook.Server.Tests.Cluster;

/// <summary>Small manifests for the cluster tests (the seed's egress-gateway setup, cut down).</summary>
internal static class ClusterYaml
{
    public const string MeshRegistryOnly = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: istio
          namespace: istio-system
        data:
          mesh: |-
            outboundTrafficPolicy:
              mode: REGISTRY_ONLY
        """;

    /// <summary>ConfigMaps the cache must skip: not a mesh config, or outside the mesh namespace.</summary>
    public const string OtherConfigMaps = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: kube-root-ca.crt
          namespace: istio-system
        data:
          ca.crt: x
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: istio
          namespace: default
        data:
          mesh: |-
            outboundTrafficPolicy:
              mode: ALLOW_ANY
        """;

    public const string Namespaces = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: default
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: istio-system
        """;

    public const string EgressGatewayService = """
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-egressgateway
          namespace: istio-system
        spec:
          selector:
            istio: egressgateway
          ports:
          - name: tls
            port: 443
            targetPort: 8443
        """;

    public const string Gateway = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: istio-egressgateway
          namespace: default
        spec:
          selector:
            istio: egressgateway
          servers:
          - port:
              number: 443
              name: tls
              protocol: TLS
            hosts:
            - edition.cnn.com
            tls:
              mode: PASSTHROUGH
        """;

    public const string DestinationRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: egressgateway-for-cnn
          namespace: default
        spec:
          host: istio-egressgateway.istio-system.svc.cluster.local
          subsets:
          - name: cnn
        """;

    public const string Sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          namespace: default
        spec:
          outboundTrafficPolicy:
            mode: REGISTRY_ONLY
        """;

    public static string ServiceEntry(string name, string host, int port = 443) => $"""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: {name}
          namespace: default
        spec:
          hosts:
          - {host}
          ports:
          - number: {port}
            name: tls
            protocol: TLS
          resolution: DNS
        """;

    public static string VirtualService(string name, string host) => $"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: {name}
          namespace: default
        spec:
          hosts:
          - {host}
          tls:
          - match:
            - port: 443
              sniHosts:
              - {host}
            route:
            - destination:
                host: {host}
                port:
                  number: 443
        """;

    /// <summary>An EgressPolicy that selects no namespace of <see cref="Cluster"/> (none has the label): it is read, and decides nothing.</summary>
    public const string TenantPolicy = """
        apiVersion: egress.webhook.dev/v1alpha1
        kind: EgressPolicy
        metadata:
          name: tenants
        spec:
          namespaceSelector:
            matchLabels:
              tenant: "true"
          allow:
          - hosts: ["*.example.com"]
            ports: [443]
        """;

    /// <summary>An EgressPolicy for namespace <c>default</c>: only <paramref name="hosts"/> on port 443, with <paramref name="action"/>.</summary>
    public static string AllowListPolicy(string action, params string[] hosts) => $$"""
        apiVersion: egress.webhook.dev/v1alpha1
        kind: EgressPolicy
        metadata:
          name: allow-list
        spec:
          namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: default
          action: {{action}}
          allow:
          - hosts: [{{string.Join(", ", hosts.Select(h => $"\"{h}\""))}}]
            ports: [443]
        """;

    /// <summary>One object of every kind the cache reads, plus ConfigMaps it must skip.</summary>
    public static string Cluster => string.Join("\n---\n",
        MeshRegistryOnly, OtherConfigMaps, Namespaces, EgressGatewayService, Gateway, DestinationRule, Sidecar,
        ServiceEntry("cnn", "edition.cnn.com"), VirtualService("cnn", "edition.cnn.com"), TenantPolicy);
}
