namespace EgressWebhook.Server.Cluster;

/// <summary>Exponential backoff with jitter: each failure doubles the delay up to a cap, and the delay actually
/// waited is a random point in its upper half, so replicas that lost their watches together do not retry together.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max, Random random)
{
    private int _failures;

    /// <summary>The delay to wait after one more failure.</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures, 30);
        _failures++;
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ceiling / 2 + (random.NextDouble() * ceiling / 2));
    }

    /// <summary>Back to the initial delay (after a success).</summary>
    public void Reset() => _failures = 0;
}
