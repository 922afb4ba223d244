using System.Threading.RateLimiting;
using EgressWebhook.Server.Options;

namespace EgressWebhook.Server.Endpoints;

/// <summary>Bounds the memory that large reviews take at once. Decoding and checking a review costs many times its
/// size (a 3 MiB object becomes 30–170 MiB of parsed document, model and rule work), so a burst of large reviews
/// would take the process past its memory limit (24 at once did, under the pod's 288 MiB heap: OutOfMemoryException).
/// A review whose body is over <see cref="LimitsOptions.LargeReviewBytes"/> is read (at most 3 MiB of raw bytes), then
/// waits, oldest first, until the large reviews being decided leave room within
/// <see cref="LimitsOptions.LargeReviewBytesInFlight"/>; smaller ones never wait. One whose deadline (less a reserve)
/// passes while it waits is answered per the failure mode without being decided: only its envelope is parsed.</summary>
internal sealed class LargeReviewGate : IDisposable
{
    // permits are KiB: a ConcurrencyLimiter counts in int
    private const int Unit = 1024;

    private readonly ConcurrencyLimiter _limiter;
    private readonly long _threshold;
    private readonly int _permits;

    public LargeReviewGate(LimitsOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _threshold = limits.LargeReviewBytes;
        _permits = Math.Max(1, (int)(limits.LargeReviewBytesInFlight / Unit));
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _permits,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>The bytes of large reviews decided at once (<see cref="LimitsOptions.LargeReviewBytesInFlight"/>, in KiB).</summary>
    public long BudgetBytes => (long)_permits * Unit;

    /// <summary>Bytes the large reviews being decided now hold.</summary>
    public long InFlightBytes => (long)(_permits - (int)(_limiter.GetStatistics()?.CurrentAvailablePermits ?? _permits)) * Unit;

    /// <summary>Whether a body of the declared <paramref name="length"/> (none: chunked) may have to wait: Kestrel ends a body
    /// at its declared length, so one declared at or under the threshold never does.</summary>
    public bool MayWait(long? length) => length is null || length > _threshold;

    /// <summary>Waits until a review of <paramref name="bytes"/> may be decided; the result says whether it may, and
    /// must be disposed when the review is answered.</summary>
    public async ValueTask<Entry> EnterAsync(long bytes, CancellationToken deadline)
    {
        if (bytes <= _threshold)
        {
            return default;
        }

        // a review larger than the whole budget waits for all of it
        var permits = (int)Math.Min(_permits, (bytes + Unit - 1) / Unit);
        try
        {
            var lease = await _limiter.AcquireAsync(permits, deadline).ConfigureAwait(false);
            return lease.IsAcquired ? new Entry(lease, Waited: false) : Refuse(lease);
        }
        catch (OperationCanceledException)
        {
            return new Entry(null, Waited: true);
        }
    }

    public void Dispose() => _limiter.Dispose();

    private static Entry Refuse(RateLimitLease lease)
    {
        lease.Dispose();
        return new Entry(null, Waited: true);
    }

    /// <summary>A review's place: <see cref="Waited"/> when its deadline passed (or the gate closed) before it got one.</summary>
    internal readonly record struct Entry(RateLimitLease? Lease, bool Waited) : IDisposable
    {
        public void Dispose() => Lease?.Dispose();
    }
}
