namespace EgressWebhook.Core.Model;

/// <summary>The labels of Istio's ambient mode (istio/api <c>label</c> package).</summary>
internal static class AmbientLabels
{
    /// <summary>On a ServiceEntry, Service or Namespace: the waypoint (a Gateway name) its traffic goes through; <c>none</c> opts out.</summary>
    public const string UseWaypoint = "istio.io/use-waypoint";

    /// <summary>Next to <see cref="UseWaypoint"/>: the waypoint's namespace when it is not the object's own.</summary>
    public const string UseWaypointNamespace = "istio.io/use-waypoint-namespace";

    /// <summary>On a waypoint Gateway: the traffic it serves, <c>service</c> (default), <c>workload</c>, <c>all</c> or <c>none</c>.</summary>
    public const string WaypointFor = "istio.io/waypoint-for";

    /// <summary>On a Namespace (or pod): <c>ambient</c> enrols its workloads in ztunnel.</summary>
    public const string DataplaneMode = "istio.io/dataplane-mode";

    public const string Ambient = "ambient";

    /// <summary>The value of <see cref="UseWaypoint"/> that opts out of a namespace's waypoint.</summary>
    public const string None = "none";

    /// <summary>Traffic types of <see cref="WaypointFor"/>.</summary>
    public const string ServiceTraffic = "service";
    public const string WorkloadTraffic = "workload";
    public const string AllTraffic = "all";
}
