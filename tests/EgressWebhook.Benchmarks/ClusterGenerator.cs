using System.Globalization;
using System.Text;

namespace EgressWebhook.Benchmarks;

/// <summary>Generates a realistic cluster as YAML: a shared egress gateway Service and a REGISTRY_ONLY mesh
/// config, then namespaces each holding a seed-like egress setup (ServiceEntry, Gateway, the mesh leg and the
/// gateway leg, a DestinationRule for the gateway) beside unrelated Services and VirtualServices.</summary>
public static class ClusterGenerator
{
    /// <summary>Objects per namespace (see <see cref="Namespace"/>).</summary>
    public const int ObjectsPerNamespace = 10;

    /// <summary>Objects outside the namespaces: the gateway Service and the mesh config.</summary>
    public const int SharedObjects = 2;

    public static int NamespacesFor(int objects) => Math.Max(1, (objects - SharedObjects) / ObjectsPerNamespace);

    /// <summary>The whole cluster as one multi-document YAML text.</summary>
    public static string Yaml(int objects)
    {
        var sb = new StringBuilder();
        Shared(sb);
        for (var i = 0; i < NamespacesFor(objects); i++)
        {
            Namespace(sb, i);
        }

        return sb.ToString();
    }

    /// <summary>One YAML file per namespace plus one for the shared objects, written to <paramref name="directory"/>.</summary>
    public static void WriteState(string directory, int objects)
    {
        Directory.CreateDirectory(directory);
        var sb = new StringBuilder();
        Shared(sb);
        File.WriteAllText(Path.Combine(directory, "00-shared.yaml"), sb.ToString());
        for (var i = 0; i < NamespacesFor(objects); i++)
        {
            sb.Clear();
            Namespace(sb, i);
            File.WriteAllText(Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"ns-{i:D5}.yaml")), sb.ToString());
        }
    }

    private static void Shared(StringBuilder sb) => sb.Append("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |-
            outboundTrafficPolicy:
              mode: REGISTRY_ONLY
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system}
        spec:
          selector: {app: istio-egressgateway, istio: egressgateway}
          ports:
          - {name: http2, port: 80, targetPort: 8080}
          - {name: https, port: 443, targetPort: 8443}

        """);

    /// <summary>Ten objects in namespace <c>team-i</c>.</summary>
    public static void Namespace(StringBuilder sb, int i)
    {
        var ns = string.Create(CultureInfo.InvariantCulture, $"team-{i}");
        var host = string.Create(CultureInfo.InvariantCulture, $"api-{i}.example.com");
        sb.Append(CultureInfo.InvariantCulture, $$$"""
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: ext, namespace: {{{ns}}}}
            spec:
              hosts: [{{{host}}}]
              ports: [{number: 443, name: tls, protocol: TLS}]
              resolution: DNS
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: egress, namespace: {{{ns}}}}
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: [{{{host}}}]
                tls: {mode: PASSTHROUGH}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: mesh-to-egress, namespace: {{{ns}}}}
            spec:
              hosts: [{{{host}}}]
              gateways: [mesh]
              tls:
              - match: [{port: 443, sniHosts: [{{{host}}}]}]
                route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443} } }]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: egress-to-external, namespace: {{{ns}}}}
            spec:
              hosts: [{{{host}}}]
              gateways: [egress]
              tls:
              - match: [{port: 443, sniHosts: [{{{host}}}]}]
                route: [{destination: {host: {{{host}}}, port: {number: 443} } }]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: egress-gateway, namespace: {{{ns}}}}
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              trafficPolicy: {connectionPool: {tcp: {maxConnections: 100} } }
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: {{{ns}}}}
            spec:
              selector: {app: web}
              ports: [{name: http, port: 80, targetPort: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: {{{ns}}}}
            spec:
              selector: {app: api}
              ports: [{name: http, port: 80, targetPort: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: db, namespace: {{{ns}}}}
            spec:
              selector: {app: db}
              ports: [{name: tcp, port: 5432}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web, namespace: {{{ns}}}}
            spec:
              hosts: [web]
              http:
              - route: [{destination: {host: web, port: {number: 80} } }]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: api, namespace: {{{ns}}}}
            spec:
              hosts: [api]
              http:
              - match: [{port: 80}]
                route: [{destination: {host: api, port: {number: 80} }, weight: 90}, {destination: {host: web, port: {number: 80} }, weight: 10}]

            """);
    }
}
