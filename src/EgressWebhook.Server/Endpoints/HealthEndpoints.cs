using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Snapshots;
using Prometheus;

namespace EgressWebhook.Server.Endpoints;

/// <summary><c>GET /healthz</c> (live), <c>GET /readyz</c> (a snapshot is loaded), <c>GET /metrics</c> (Prometheus).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var store = app.ServiceProvider.GetRequiredService<SnapshotStore>();
        var metrics = app.ServiceProvider.GetRequiredService<WebhookMetrics>();

        app.MapGet("/healthz", (RequestDelegate)(http => http.Response.WriteAsync("ok\n")));
        app.MapGet("/readyz", (RequestDelegate)(http =>
        {
            if (store.IsReady)
            {
                return http.Response.WriteAsync("ready\n");
            }

            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return http.Response.WriteAsync("no snapshot loaded yet\n");
        }));
        app.MapMetrics("/metrics", metrics.Registry);
        return app;
    }
}
