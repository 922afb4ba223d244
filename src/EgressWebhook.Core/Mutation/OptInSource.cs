namespace EgressWebhook.Core.Mutation;

/// <summary>Where an entry's opt-in came from.</summary>
public enum OptInSource
{
    /// <summary>Not opted in.</summary>
    None,

    /// <summary>The entry's <see cref="RoutingAnnotations.Gateway"/> annotation.</summary>
    Annotation,

    /// <summary>Its namespace's <see cref="RoutingAnnotations.NamespaceLabel"/> label.</summary>
    NamespaceLabel,

    /// <summary><see cref="MutationPolicy.DefaultGateway"/>.</summary>
    ClusterDefault,
}
