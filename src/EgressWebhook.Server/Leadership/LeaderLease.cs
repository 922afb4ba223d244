using System.Net;
using EgressWebhook.Server.Cluster;
using EgressWebhook.Server.Generation;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;

namespace EgressWebhook.Server.Leadership;

/// <summary>Leader election on a coordination.k8s.io Lease, for any hosted service that must run on one replica only
/// (<see cref="RoutingGenerator"/>, <see cref="Audit.BackgroundAudit"/>, each on a Lease of its own): <see cref="RunAsync"/> competes for as long as the service runs, and each
/// term of leadership is a <see cref="CancellationTokenSource"/> (<see cref="Term"/>) that is cancelled when the Lease
/// is lost, so that the work of a term stops with it. Its log messages (EventIds.Leadership) name
/// <c>purpose</c> and the Lease.</summary>
/// <remarks>A failed election round (API unreachable) is retried after a backoff, never ends the process; on shutdown
/// the leader hands the Lease back. The API's refusals on the Lease, which LeaderElector only retries, are logged once
/// per status code.</remarks>
internal sealed class LeaderLease(IKubernetes client, string purpose, LeaseSettings settings, ILogger logger, TimeProvider time)
{
    private readonly HashSet<int> _reportedLeaseErrors = [];
    private volatile CancellationTokenSource? _term;
    private volatile LeaderElector? _elector;

    /// <summary>Raised when this replica starts leading (after <see cref="Term"/> is set).</summary>
    public event Action? StartedLeading;

    /// <summary>Raised when this replica stops leading (after the term was cancelled).</summary>
    public event Action? StoppedLeading;

    public LeaseSettings Settings => settings;

    /// <summary>The current term; null while this replica does not lead.</summary>
    public CancellationTokenSource? Term => _term;

    /// <summary>Whether this replica holds the Lease now.</summary>
    public bool IsLeader => _term is { IsCancellationRequested: false } && _elector?.IsLeader() == true;

    /// <summary>Competes for the Lease until <paramref name="stoppingToken"/> is cancelled, then releases it if held.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var lease = new ObservedLeaseLock(client, settings.Namespace, settings.Name, settings.Identity, ReportLeaseError);
        lease.OnHttpError += ReportLeaseError;
        using var elector = new LeaderElector(new LeaderElectionConfig(lease)
        {
            LeaseDuration = settings.LeaseDuration,
            RenewDeadline = settings.RenewDeadline,
            RetryPeriod = settings.RetryPeriod,
        });
        elector.OnStartedLeading += StartTerm;
        elector.OnStoppedLeading += EndTerm;
        elector.OnNewLeader += leader =>
        {
            if (!string.IsNullOrEmpty(leader) && logger.IsEnabled(LogLevel.Information))
            {
                logger.NewLeader(purpose, settings.Name, leader);
            }
        };
        _elector = elector;
        var backoff = new Backoff(settings.RetryPeriod, settings.LeaseDuration, Random.Shared);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await elector.RunUntilLeadershipLostAsync(stoppingToken);
                    backoff.Reset();
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // LeaderElector lets transport errors (connection refused, DNS) escape; stay a follower and retry
                    EndTerm();
                    var delay = backoff.Next();
                    logger.ElectionFailed(purpose, settings.Name, (long)delay.TotalMilliseconds, ex);
                    try
                    {
                        await Task.Delay(delay, time, stoppingToken);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }

            if (elector.IsLeader())
            {
                await ReleaseAsync(lease);
            }
        }
        finally
        {
            EndTerm();
        }
    }

    /// <summary>On shutdown, the leader hands the Lease back (empty holder, 1 s duration, as client-go's
    /// ReleaseOnCancel does), so that another replica takes over at its next try instead of after the lease duration.
    /// A failure leaves the Lease to expire.</summary>
    private async Task ReleaseAsync(LeaseLock lease)
    {
        try
        {
            using var timeout = new CancellationTokenSource(settings.RenewDeadline, time);
            var current = await lease.GetAsync(timeout.Token);
            if (current?.HolderIdentity != settings.Identity)
            {
                return;
            }

            var now = time.GetUtcNow().UtcDateTime;
            var released = await lease.UpdateAsync(new LeaderElectionRecord
            {
                HolderIdentity = "",
                LeaseDurationSeconds = 1,
                AcquireTime = now,
                RenewTime = now,
                LeaderTransitions = current.LeaderTransitions,
            }, timeout.Token);
            if (released)
            {
                logger.Released(purpose, settings.Identity, settings.Namespace, settings.Name);
            }
        }
        catch (Exception ex)
        {
            // shutting down either way; the Lease then expires on its own
            logger.ReleaseFailed(purpose, settings.Name, ex);
        }
    }

    /// <summary>LeaderElector swallows the API's answers on the Lease (it only retries). 409 is the normal race between
    /// replicas; anything else (403 without RBAC, 404 for a missing namespace) is logged as a warning once per status
    /// code, so that a replica that can never lead says why.</summary>
    private void ReportLeaseError(HttpOperationException e)
    {
        var code = (int?)e.Response?.StatusCode ?? 0;
        bool first;
        lock (_reportedLeaseErrors)
        {
            first = code != (int)HttpStatusCode.Conflict && _reportedLeaseErrors.Add(code);
        }

        if (first)
        {
            logger.LeaseRequestFailed(purpose, code, settings.Namespace, settings.Name, e.Response?.Content ?? e.Message);
        }
        else if (logger.IsEnabled(LogLevel.Debug))
        {
            logger.LeaseHttpError(purpose, settings.Name, $"{code} {e.Message}");
        }
    }

    private void StartTerm()
    {
        lock (_reportedLeaseErrors)
        {
            // a refusal seen again after this term is news again
            _reportedLeaseErrors.Clear();
        }

        Interlocked.Exchange(ref _term, new CancellationTokenSource())?.Cancel();
        logger.StartedLeading(purpose, settings.Identity, settings.Namespace, settings.Name);
        StartedLeading?.Invoke();
    }

    private void EndTerm()
    {
        if (Interlocked.Exchange(ref _term, null) is not { } term)
        {
            return;
        }

        // cancels the work in flight; the token source is not disposed because that work may still hold its token
        term.Cancel();
        logger.StoppedLeading(purpose, settings.Identity, settings.Name);
        StoppedLeading?.Invoke();
    }

    /// <summary>KubernetesClient's LeaseLock with the API's errors on reading the Lease reported (LeaderElector turns a
    /// failed read other than 404 into a silent retry).</summary>
    private sealed class ObservedLeaseLock(IKubernetes client, string ns, string name, string identity, Action<HttpOperationException> report)
        : LeaseLock(client, ns, name, identity)
    {
        protected override async Task<V1Lease> ReadMetaObjectAsync(IKubernetes client, string name, string namespaceParameter, CancellationToken cancellationToken)
        {
            try
            {
                return await base.ReadMetaObjectAsync(client, name, namespaceParameter, cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode != HttpStatusCode.NotFound)
            {
                report(e);
                throw;
            }
        }
    }
}
