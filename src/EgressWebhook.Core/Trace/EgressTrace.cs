namespace EgressWebhook.Core.Trace;

/// <summary>Where a traced request ends.</summary>
public enum TraceEnd
{
    /// <summary>Leaves the mesh to a registered host: through the gateways of <see cref="EgressTrace.Via"/>, or direct.</summary>
    External,

    /// <summary>Unregistered under ALLOW_ANY: Envoy's <c>PassthroughCluster</c> (works, unmonitored, bypasses any gateway).</summary>
    Passthrough,

    /// <summary>Unregistered under REGISTRY_ONLY: Envoy's <c>BlackHoleCluster</c> (the connection is reset).</summary>
    Blackhole,

    /// <summary>Arrives at a gateway (or its Service) that has no server, port or route for it.</summary>
    Dropped,

    /// <summary>Comes back to a gateway it already crossed (a route to the gateway's own Service, or a NONE-resolution
    /// host without endpoints, which the gateway forwards to the original destination: itself).</summary>
    Loop,

    /// <summary>Stays in the cluster: a Kubernetes Service that is no gateway's.</summary>
    Internal,
}

/// <summary>One step of a trace: the object that decided it and the field that did.</summary>
/// <param name="Kind">Object kind (<c>Sidecar</c>, <c>VirtualService</c>, …) or <c>Cluster</c> for an Envoy cluster
/// (<c>BlackHoleCluster</c>, <c>PassthroughCluster</c>).</param>
/// <param name="Namespace">Its namespace (empty when it has none).</param>
/// <param name="Name">Its name.</param>
/// <param name="Field">The field path that decided the step, e.g. <c>spec.tls[0].match[0]</c>; empty when none did.</param>
/// <param name="Note">What happens there, in one line.</param>
public sealed record TraceHop(string Kind, string Namespace, string Name, string Field, string Note)
{
    /// <summary>0 at the client sidecar, n inside the n-th gateway crossed (for the text tree).</summary>
    public int Depth { get; init; }

    /// <summary><c>Kind ns/name</c>.</summary>
    public string Object => Namespace.Length == 0 ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";
}

/// <summary>The path Envoy takes for a request from the sidecars of <see cref="From"/> to <see cref="Host"/>:<see cref="Port"/>.</summary>
/// <param name="From">Client namespace.</param>
/// <param name="Host">Requested host (resolved in <see cref="From"/>).</param>
/// <param name="Port">Requested port.</param>
/// <param name="End">Where it ends.</param>
/// <param name="Via">The Gateways crossed, <c>ns/name</c>, in order (empty: direct from the sidecar).</param>
/// <param name="Hops">The steps, in order.</param>
/// <param name="Reason">Why it ends there, in one line.</param>
public sealed record EgressTrace(string From, string Host, int Port, TraceEnd End, IReadOnlyList<string> Via, IReadOnlyList<TraceHop> Hops, string Reason)
{
    /// <summary>The end as written in output: <c>external</c>, <c>passthrough</c>, <c>blackhole</c>, <c>dropped</c>, <c>loop</c>, <c>internal</c>.</summary>
    public string EndName => Name(End);

    /// <summary>The waypoint (<c>ns/name</c>) the traffic was meant to cross but bypasses, because istiod would not bind it
    /// (ambient mode: ztunnel then sends it straight out); null otherwise.</summary>
    public string? BypassedWaypoint { get; init; }

    /// <summary>Whether the trace ends where traffic is lost (blackhole, dropped, loop).</summary>
    public bool IsBroken => End is TraceEnd.Blackhole or TraceEnd.Dropped or TraceEnd.Loop;

    /// <summary>The name of <paramref name="end"/> in output.</summary>
    public static string Name(TraceEnd end) => end switch
    {
        TraceEnd.External => "external",
        TraceEnd.Passthrough => "passthrough",
        TraceEnd.Blackhole => "blackhole",
        TraceEnd.Dropped => "dropped",
        TraceEnd.Loop => "loop",
        _ => "internal",
    };
}
