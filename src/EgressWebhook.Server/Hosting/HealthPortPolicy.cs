using EgressWebhook.Server.Options;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Hosting;

/// <summary>Endpoint metadata: the endpoint is served only on the health port (<c>true</c>: <c>/metrics</c>, which the
/// NetworkPolicy lets the monitoring namespace reach on that port alone) or never on it (<c>false</c>: the admission
/// endpoints). Without a health port (<c>Webhook:HealthPort=0</c>) every endpoint is served on the main port.</summary>
internal sealed record HealthPortMetadata(bool OnHealthPort);

/// <summary>Routing's side of <see cref="HealthPortMetadata"/>, like <c>RequireHost</c>'s <c>HostMatcherPolicy</c> but on
/// the port the connection came in on (the Host header may name another one behind a port-forward or a Service): an
/// endpoint on the wrong listener is not a candidate, so the request ends as a plain 404 without reaching a handler.</summary>
internal sealed class HealthPortMatcherPolicy(IOptions<WebhookOptions> options) : MatcherPolicy, IEndpointSelectorPolicy
{
    // after the HTTP method and host policies
    public override int Order => 1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        options.Value.HealthPort > 0 && endpoints.Any(e => e.Metadata.GetMetadata<HealthPortMetadata>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var onHealthPort = httpContext.Connection.LocalPort == options.Value.HealthPort;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<HealthPortMetadata>() is { } metadata &&
                metadata.OnHealthPort != onHealthPort)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}

internal static class HealthPortEndpointConventionBuilderExtensions
{
    /// <summary>Serves the endpoint only on the health port, when there is one.</summary>
    public static TBuilder RequireHealthPort<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new HealthPortMetadata(OnHealthPort: true));

    /// <summary>Never serves the endpoint on the health port.</summary>
    public static TBuilder ExcludeHealthPort<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new HealthPortMetadata(OnHealthPort: false));
}
