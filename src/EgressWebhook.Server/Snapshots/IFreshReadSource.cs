using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Server.Snapshots;

/// <summary>Direct, consistent reads of the API server, for decisions that the cache may be too late for: the watch
/// delivers a write some tens of milliseconds after the API server acknowledged it (40–80 ms were measured), while
/// <c>kubectl apply</c> sends the next object at once. The live-cluster source registers one; otherwise it is
/// <see cref="NoFreshReads"/>.</summary>
internal interface IFreshReadSource
{
    /// <summary>Whether this source reads anything: false for <see cref="NoFreshReads"/>, so that a decision does not
    /// plan reads nobody makes.</summary>
    bool Reads => true;

    /// <summary>A snapshot in which every object of the planned kinds is as the API server holds it now (added,
    /// changed and deleted ones alike); null when the reads found the cache already right for them. A kind planned
    /// <see cref="FreshReadMode.IfCountChanged"/> is first counted (a list of one item) and read in full only when the
    /// count differs from the cache's. Must return within <paramref name="cancellationToken"/>.</summary>
    Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyDictionary<ResourceKind, FreshReadMode> plan, CancellationToken cancellationToken);

    /// <summary>A snapshot with what <paramref name="plan"/> asks read from the API server (<see cref="FreshReadPlan"/>:
    /// objects by name, kinds counted or listed, only in <see cref="FreshReadPlan.Namespace"/> when one is given); null when the reads found the cache already right. Must return within <paramref name="cancellationToken"/>.
    /// A source that reads only kinds reads <see cref="FreshReadPlan.Kinds"/> in full.</summary>
    Task<EgressSnapshot?> ConfirmAsync(EgressSnapshot current, FreshReadPlan plan, CancellationToken cancellationToken) =>
        plan.Kinds.Count == 0 ? Task.FromResult<EgressSnapshot?>(null) : RefreshAsync(current, plan.Kinds, cancellationToken);

    /// <summary>One object as the API server holds it now; null when it does not exist, is not decodable, or the kind
    /// is not watched.</summary>
    Task<EgressObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken);
}

/// <summary>The null object of <see cref="IFreshReadSource"/> (the state directory: nothing newer to read).</summary>
internal sealed class NoFreshReads : IFreshReadSource
{
    public static NoFreshReads Instance { get; } = new();

    public bool Reads => false;

    public Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyDictionary<ResourceKind, FreshReadMode> plan, CancellationToken cancellationToken) =>
        Task.FromResult<EgressSnapshot?>(null);

    public Task<EgressObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken) => Task.FromResult<EgressObject?>(null);
}
