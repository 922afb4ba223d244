using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Snapshots;
using Prometheus;

namespace EgressWebhook.Server.Endpoints;

/// <summary><c>GET /healthz</c> (live), <c>GET /readyz</c> (a snapshot is loaded and not shutting down), <c>GET /metrics</c>
/// (Prometheus; on the health port only when there is one).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var store = app.ServiceProvider.GetRequiredService<SnapshotStore>();
        var metrics = app.ServiceProvider.GetRequiredService<WebhookMetrics>();
        var drain = app.ServiceProvider.GetRequiredService<ShutdownDrain>();

        app.MapGet("/healthz", (RequestDelegate)(http => http.Response.WriteAsync("ok\n")));
        app.MapGet("/readyz", (RequestDelegate)(http =>
        {
            if (drain.IsDraining)
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return http.Response.WriteAsync("shutting down\n");
            }

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
