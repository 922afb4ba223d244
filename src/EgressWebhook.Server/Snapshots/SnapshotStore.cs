using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Snapshots;

/// <summary>One published snapshot with when and from where it came.</summary>
internal sealed record SnapshotState(EgressSnapshot Snapshot, DateTimeOffset PublishedAt, string Source);

/// <summary>Holds the current snapshot. Sources publish a whole new immutable snapshot; admissions read
/// <see cref="Current"/> once per request without locks and never wait on a source.</summary>
internal sealed class SnapshotStore(TimeProvider time)
{
    private volatile SnapshotState? _current;

    /// <summary>The last published snapshot, or an empty one before the first.</summary>
    public SnapshotState Current => _current ?? new SnapshotState(EgressSnapshot.Empty, DateTimeOffset.MinValue, "none");

    /// <summary>Whether a source has published at least once (readiness).</summary>
    public bool IsReady => _current is not null;

    /// <summary>Raised after each publish (metrics, waiters in tests).</summary>
    public event Action<SnapshotState>? Published;

    public void Publish(EgressSnapshot snapshot, string source)
    {
        var state = new SnapshotState(snapshot, time.GetUtcNow(), source);
        _current = state;
        Published?.Invoke(state);
    }
}
