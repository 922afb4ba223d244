namespace EgressWebhook.Server.Cluster;

/// <summary>Whether the live-cluster cache can be trusted right now, and what to do when it cannot.</summary>
/// <remarks>Intended use by the admission endpoint (the live-cluster source with <c>Webhook:Source=Cluster</c>; with the
/// State source it is <see cref="NoCache"/>, never unsynced): before running the engine, if
/// <c>!IsSynced || IsStale</c>, then with <see cref="NotSyncedBehavior.Deny"/> deny with <see cref="Describe"/>
/// (a message that says to retry), and with <see cref="NotSyncedBehavior.Allow"/> allow with <see cref="Describe"/>
/// as an admission warning, without checking. While not synced the pod is also not ready (/readyz), so the API
/// server normally routes admissions to a synced replica; staleness can happen on a ready replica.</remarks>
internal interface ICacheHealth
{
    /// <summary>Every kind has been listed once and a snapshot was published.</summary>
    bool IsSynced { get; }

    /// <summary>Some kind's list or watch has been failing longer than <c>Webhook:Cluster:StaleAfterSeconds</c>.</summary>
    bool IsStale { get; }

    /// <summary><c>Webhook:Cluster:WhenNotSynced</c>.</summary>
    NotSyncedBehavior WhenNotSynced { get; }

    /// <summary>One line for the denial or warning, naming the kinds concerned; null when synced and fresh.</summary>
    string? Describe();

    /// <summary>Whether the snapshot comes to hold what admissions let through (the live cache does; a state directory
    /// never holds admitted objects).</summary>
    bool HoldsAdmittedWrites => true;
}

/// <summary>The null object of <see cref="ICacheHealth"/>: the state directory, always synced, never stale.</summary>
internal sealed class NoCache : ICacheHealth
{
    public static NoCache Instance { get; } = new();

    public bool IsSynced => true;

    public bool IsStale => false;

    public NotSyncedBehavior WhenNotSynced => NotSyncedBehavior.Allow;

    public bool HoldsAdmittedWrites => false;

    public string? Describe() => null;
}
