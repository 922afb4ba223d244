using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Snapshots;
using Prometheus;

namespace EgressWebhook.Server.Endpoints;

/// <summary><c>GET /healthz</c> (live), <c>GET /readyz</c> (not shutting down, a snapshot is loaded and, with the
/// live-cluster cache, admissions would not be refused for it), <c>GET /metrics</c> (Prometheus; on the health port only
/// when there is one).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var store = app.ServiceProvider.GetRequiredService<SnapshotStore>();
        var metrics = app.ServiceProvider.GetRequiredService<WebhookMetrics>();
        var drain = app.ServiceProvider.GetRequiredService<ShutdownDrain>();
        var cache = app.ServiceProvider.GetService<ICacheHealth>() ?? NoCache.Instance;

        app.MapGet("/healthz", (RequestDelegate)(http => http.Response.WriteAsync("ok\n")));
        app.MapGet("/readyz", (RequestDelegate)(http =>
        {
            if (drain.IsDraining)
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return http.Response.WriteAsync("shutting down\n");
            }

            if (!store.IsReady)
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return http.Response.WriteAsync("no snapshot loaded yet\n");
            }

            // the same test the admissions make: when they would be refused as not synced or stale, so is readiness
            // (with WhenNotSynced=Allow they are answered, so the pod stays ready)
            if (cache.WhenNotSynced == NotSyncedBehavior.Deny && (!cache.IsSynced || cache.IsStale))
            {
                http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return http.Response.WriteAsync((cache.Describe() ?? "the egress webhook cache is not synced") + "\n");
            }

            return http.Response.WriteAsync("ready\n");
        }));
        // on the health port only, when there is one (HealthPortMatcherPolicy)
        app.MapMetrics("/metrics", metrics.Registry).RequireHealthPort();
        return app;
    }
}
