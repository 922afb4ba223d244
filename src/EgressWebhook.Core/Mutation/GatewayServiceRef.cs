namespace EgressWebhook.Core.Mutation;

/// <summary>The egress gateway Service an entry routes through.</summary>
public readonly record struct GatewayServiceRef(string Namespace, string Name)
{
    /// <summary>The annotation form <c>ns/name</c>.</summary>
    public override string ToString() => $"{Namespace}/{Name}";

    /// <summary>The Service's host <c>name.ns.svc.cluster.local</c>.</summary>
    public string Host => $"{Name}.{Namespace}.{Istio.HostName.ClusterDomain}";
}
