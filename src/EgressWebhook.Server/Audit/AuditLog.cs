using System.Text.Json;
using System.Threading.Channels;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Audit;

/// <summary>Writes one JSON line per admission decision to stdout or a file. Requests only enqueue; one
/// background writer serialises and writes, so lines never interleave and the hot path never waits on I/O.</summary>
internal sealed class AuditLog : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(5);

    private readonly Channel<AuditRecord> _channel = Channel.CreateUnbounded<AuditRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _target;
    private readonly ILogger<AuditLog> _logger;
    private Task? _writer;

    public AuditLog(IOptions<WebhookOptions> options, ILogger<AuditLog> logger)
    {
        _target = options.Value.AuditLog;
        _logger = logger;
    }

    public bool Enabled => _target != "off";

    public void Write(AuditRecord record)
    {
        if (Enabled)
        {
            _channel.Writer.TryWrite(record);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            var stream = _target == "stdout"
                ? Console.OpenStandardOutput()
                : new FileStream(_target, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            _writer = Task.Run(() => DrainAsync(stream), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>Runs after the web server stopped (hosted services stop in reverse order): every decided request is written.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        if (_writer is not null)
        {
            await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        if (_writer is not null)
        {
            await _writer.ConfigureAwait(false);
        }
    }

    private async Task DrainAsync(Stream stream)
    {
        var buffer = new MemoryStream();
        var json = new Utf8JsonWriter(buffer);
        try
        {
            while (await _channel.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (_channel.Reader.TryRead(out var record))
                {
                    json.Reset(buffer);
                    JsonSerializer.Serialize(json, record, AuditJsonContext.Default.AuditRecord);
                    json.Flush();
                    buffer.WriteByte((byte)'\n');
                }

                try
                {
                    stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                    stream.Flush();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // whatever the sink throws, the writer lives on: a dead writer would leave records piling up
                    _logger.AuditWriteFailed(ex);
                }

                buffer.SetLength(0);

                // one write per interval under load instead of a wake-up and a write per request; lines wait at most this long
                await Task.Delay(BatchInterval).ConfigureAwait(false);
            }
        }
        finally
        {
            await json.DisposeAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
