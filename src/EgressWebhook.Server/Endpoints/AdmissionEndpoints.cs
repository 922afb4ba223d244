using EgressWebhook.Core.Admission;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Endpoints;

/// <summary><c>POST /validate</c>, <c>POST /mutate</c> and, for the load test, <c>POST /floor</c>.</summary>
internal static class AdmissionEndpoints
{
    public static IEndpointRouteBuilder MapAdmissionEndpoints(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var service = services.GetRequiredService<AdmissionService>();
        var metrics = services.GetRequiredService<WebhookMetrics>();
        var logger = services.GetRequiredService<ILogger<AdmissionService>>();
        var time = services.GetRequiredService<TimeProvider>();
        var context = new EndpointContext(service, metrics, logger, time);

        // never on the health port (HealthPortMatcherPolicy: a plain 404 there)
        app.MapPost("/validate", (RequestDelegate)(http => HandleAsync(http, context, AdmissionEndpointNames.Validate))).ExcludeHealthPort();
        app.MapPost("/mutate", (RequestDelegate)(http => HandleAsync(http, context, AdmissionEndpointNames.Mutate))).ExcludeHealthPort();
        if (services.GetRequiredService<IOptions<WebhookOptions>>().Value.EnableFloorEndpoint)
        {
            app.MapPost("/floor", (RequestDelegate)(http => HandleAsync(http, context, AdmissionEndpointNames.Floor))).ExcludeHealthPort();
        }

        return app;
    }

    private static async Task HandleAsync(HttpContext http, EndpointContext context, string endpoint)
    {
        var started = context.Time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(AdmissionBody.Budget(http.Request.Query["timeout"]));
        var body = await AdmissionBody.ReadAsync(http.Request, deadline.Token);
        if (body.Review is not { Request: { } request } review)
        {
            if (body.Aborted)
            {
                context.Logger.RequestAborted(endpoint);
                return;
            }

            context.Metrics.Refused(endpoint, body.StatusCode);
            context.Logger.BadRequest(endpoint, body.StatusCode, body.Reason);
            await AdmissionBody.WriteErrorAsync(http.Response, body.StatusCode, body.Reason);
            return;
        }

        var response = endpoint == AdmissionEndpointNames.Floor
            ? new AdmissionResponse { Uid = request.Uid!, Allowed = true }
            : await context.Service.DecideAsync(endpoint, request, started, deadline.Token);
        await AdmissionBody.WriteAsync(http.Response, review.Answer(response));
    }

    private sealed record EndpointContext(AdmissionService Service, WebhookMetrics Metrics, ILogger Logger, TimeProvider Time);
}
