using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Hosting;

/// <summary>Drain on SIGTERM: the host calls <see cref="StoppingAsync"/> before it stops any service, the web server
/// included. From then on <c>/readyz</c> answers 503 and HTTP/1.1 answers carry <c>Connection: close</c>, while requests
/// are still served for <see cref="WebhookOptions.ShutdownDelaySeconds"/>, time for the endpoints to drop the pod. Then
/// the server stops listening and finishes the requests in flight, and the audit log is flushed; the host's shutdown
/// timeout (<see cref="WebhookOptions.ShutdownTimeoutSeconds"/>) bounds the whole.</summary>
internal sealed class ShutdownDrain(IOptions<WebhookOptions> options, TimeProvider time, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    private readonly TimeSpan _delay = TimeSpan.FromSeconds(options.Value.ShutdownDelaySeconds);
    private volatile bool _draining;

    /// <summary>True from the start of the shutdown on.</summary>
    public bool IsDraining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        logger.Draining(_delay.TotalSeconds);
        if (_delay <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.Delay(_delay, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the shutdown timeout passed first: stop now
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
