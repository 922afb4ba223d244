using EgressWebhook.Core.Admission;
using EgressWebhook.Server.Admission;
using EgressWebhook.Server.Audit;
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
        var context = new EndpointContext(service, metrics, logger, time, services.GetRequiredService<LargeReviewGate>());

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
        try
        {
            await DecideAsync(http, context, endpoint);
        }
        catch (OutOfMemoryException) when (!http.Response.HasStarted)
        {
            // an answer may have set its status and Content-Length before the allocation that failed
            http.Response.Clear();
            // the last guard (LargeReviewGate is the first): a one-line 503 the API server retries or applies its
            // failurePolicy to, not Kestrel's empty 500; the decision path answers its own out-of-memory per FailureMode
            const string reason = "the egress webhook ran out of memory for this request; retry";
            context.Metrics.Refused(endpoint, StatusCodes.Status503ServiceUnavailable);
            context.Logger.OutOfMemory(endpoint);
            await AdmissionBody.WriteErrorAsync(http.Response, StatusCodes.Status503ServiceUnavailable, reason);
        }
    }

    private static async Task DecideAsync(HttpContext http, EndpointContext context, string endpoint)
    {
        var started = context.Time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var budget = AdmissionBody.Budget(http.Request.Query["timeout"]);
        deadline.CancelAfter(budget);

        // a large review waits for room once read (LargeReviewGate), keeping part of its budget to be answered if the
        // wait is long; the floor measures the shell alone, and a body declared small never waits (no timer for it)
        var gate = endpoint != AdmissionEndpointNames.Floor && context.Gate.MayWait(http.Request.ContentLength) ? context.Gate : null;
        using var wait = gate is null ? null : CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        wait?.CancelAfter(budget - AdmissionBody.WaitReserve(budget));
        var body = await AdmissionBody.ReadAsync(http.Request, gate, wait?.Token ?? deadline.Token, deadline.Token);
        using var entry = body.Entry;
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

        if (entry.Waited && http.RequestAborted.IsCancellationRequested)
        {
            // the client left while the review waited: nothing to answer, nothing decided
            context.Logger.RequestAborted(endpoint);
            return;
        }

        if (entry.Waited)
        {
            var inFlight = context.Gate.InFlightBytes;
            context.Logger.LargeReviewWaited(AuditFields.LogUid(request.Uid), body.Length, inFlight);
            // the budget, not what is in flight now: a review may leave between the timeout and this line
            var reason = $"its deadline passed while it waited its turn among the large reviews (at most {context.Gate.BudgetBytes} bytes decided at once)";
            await AdmissionBody.WriteAsync(http.Response, review.Answer(context.Service.Undecided(endpoint, request, started, reason)));
            return;
        }

        var response = endpoint == AdmissionEndpointNames.Floor
            ? new AdmissionResponse { Uid = request.Uid!, Allowed = true }
            : await context.Service.DecideAsync(endpoint, request, started, deadline.Token);
        await AdmissionBody.WriteAsync(http.Response, review.Answer(response));
    }

    private sealed record EndpointContext(AdmissionService Service, WebhookMetrics Metrics, ILogger Logger, TimeProvider Time, LargeReviewGate Gate);
}
