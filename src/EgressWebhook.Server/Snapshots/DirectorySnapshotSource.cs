using System.Threading.Channels;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Observability;
using EgressWebhook.Server.Options;
using EgressWebhook.Shared;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Snapshots;

/// <summary>The embedded default source: a directory of manifests (<c>--state DIR</c>), loaded before the server
/// starts and reloaded when its files change. A reload builds a whole new snapshot and publishes it in one
/// swap; a file that does not parse keeps the last good snapshot (logged, and counted in the metrics).</summary>
internal sealed class DirectorySnapshotSource(
    IOptions<WebhookOptions> options,
    SnapshotStore store,
    WebhookMetrics metrics,
    ILogger<DirectorySnapshotSource> logger,
    TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);

    private readonly string _directory = Path.GetFullPath(options.Value.StateDirectory ?? ".");
    private readonly TimeSpan _poll = TimeSpan.FromSeconds(options.Value.StatePollSeconds);
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private string? _attempted;

    public string Name => $"state:{_directory}";

    /// <summary>Loads once before the server accepts requests, so a good directory means ready from the first request.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        ReloadIfChanged();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watcher = Watch();
        while (!stoppingToken.IsCancellationRequested)
        {
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                wait.CancelAfter(_poll);
                try
                {
                    await _changed.Reader.ReadAsync(wait.Token).ConfigureAwait(false);

                    // an editor or `kubectl cp` writes in several steps: wait for the burst to end
                    await Task.Delay(Debounce, time, stoppingToken).ConfigureAwait(false);
                    _changed.Reader.TryRead(out _);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // poll tick
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            ReloadIfChanged();
        }
    }

    private FileSystemWatcher? Watch()
    {
        try
        {
            var watcher = new FileSystemWatcher(_directory) { IncludeSubdirectories = true };
            watcher.Changed += (_, _) => _changed.Writer.TryWrite(true);
            watcher.Created += (_, _) => _changed.Writer.TryWrite(true);
            watcher.Deleted += (_, _) => _changed.Writer.TryWrite(true);
            watcher.Renamed += (_, _) => _changed.Writer.TryWrite(true);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            logger.StateWatchFailed(_directory, _poll.TotalSeconds, ex);
            return null;
        }
    }

    /// <summary>Reloads when the files' names, sizes or times differ from the last attempt (good or bad).</summary>
    internal void ReloadIfChanged()
    {
        IReadOnlyList<string> files;
        string fingerprint;
        try
        {
            files = ManifestFiles.InDirectory(_directory);
            fingerprint = string.Join('\n', files.Select(f =>
            {
                var info = new FileInfo(f);
                return $"{f}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}";
            }));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            if (_attempted != ex.Message)
            {
                _attempted = ex.Message;
                Failed(() => logger.StateDirectoryUnreadable(_directory, ex.Message));
            }

            return;
        }

        if (fingerprint == _attempted)
        {
            return;
        }

        _attempted = fingerprint;

        // files parse independently: spread them over the cores (a 50,000-object state loads about twice as fast on
        // two), then take the results in file order so that the snapshot and the first error reported are the same
        // on every run
        var results = new (IReadOnlyList<EgressObject>? Objects, Exception? Error)[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try
            {
                results[i] = (ManifestReader.Read(ManifestFiles.ReadText(files[i]), "default"), null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // whatever a file holds, the last good snapshot stays: no exception may leave this loop and stop the host
                results[i] = (null, ex);
            }
        });

        var objects = new List<EgressObject>();
        for (var i = 0; i < files.Count; i++)
        {
            if (results[i].Error is { } ex)
            {
                var reason = ex switch
                {
                    ManifestException m => m.Describe(),
                    DecodeException d => d.Describe(),
                    IOException or UnauthorizedAccessException => OneLine(ex.Message),
                    _ => $"{ex.GetType().Name}: {OneLine(ex.Message)}",
                };
                Failed(() => logger.StateFileInvalid(Path.GetRelativePath(_directory, files[i]), store.Current.Snapshot.Count, reason));
                return;
            }

            objects.AddRange(results[i].Objects!);
        }

        var snapshot = EgressSnapshot.Create(objects);
        store.Publish(snapshot, Name);
        logger.StateLoaded(_directory, snapshot.Count, files.Count);
    }

    private static string OneLine(string s)
    {
        var i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    private void Failed(Action log)
    {
        log();
        metrics.SnapshotLoadFailed();
    }
}
