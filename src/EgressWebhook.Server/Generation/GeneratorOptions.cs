using EgressWebhook.Core.Mutation;

namespace EgressWebhook.Server.Generation;

/// <summary>Settings of the routing generator (section <c>Webhook:Generator</c>). The lease timings have
/// client-go's defaults (15 s / 10 s / 2 s); tests shorten them.</summary>
internal sealed class GeneratorOptions
{
    public const string SectionName = "Webhook:Generator";

    /// <summary>The field manager of every write, and the <c>app.kubernetes.io/managed-by</c> value of generated objects.</summary>
    public const string FieldManager = "egress-webhook";

    /// <summary>Run the generator (only with <c>Webhook:Source=Cluster</c>).</summary>
    public bool Enabled { get; set; }

    /// <summary>The coordination.k8s.io Lease the replicas compete for.</summary>
    public string LeaseName { get; set; } = "egress-webhook-generator";

    /// <summary>Namespace of the Lease; unset = env <c>POD_NAMESPACE</c>, else <c>egress-webhook</c>.</summary>
    public string? LeaseNamespace { get; set; }

    /// <summary>This replica's holder identity; unset = env <c>POD_NAME</c>, else the machine name with a random suffix.</summary>
    public string? Identity { get; set; }

    /// <summary>The ServiceAccount the generator writes as (<c>NAMESPACE/NAME</c> or <c>system:serviceaccount:NAMESPACE:NAME</c>):
    /// the validating webhook refuses this account's writes to anything but the routing it generates. Unset = env
    /// <c>POD_NAMESPACE</c> and <c>POD_SERVICE_ACCOUNT</c> when both are set, else no such guard.</summary>
    public string? ServiceAccount { get; set; }

    /// <summary>How long a Lease that is not renewed keeps the others out.</summary>
    public double LeaseDurationSeconds { get; set; } = 15;

    /// <summary>The leader gives up (and stops writing) when it could not renew for this long; less than the lease duration.</summary>
    public double RenewDeadlineSeconds { get; set; } = 10;

    /// <summary>How often the Lease is renewed, or tried by a replica that does not hold it.</summary>
    public double RetryPeriodSeconds { get; set; } = 2;

    /// <summary>A full pass runs this often even without changes (objects changed by hand are put back).</summary>
    public double ResyncSeconds { get; set; } = 60;

    /// <summary>Failed writes are retried after a backoff from this …</summary>
    public double MinBackoffSeconds { get; set; } = 1;

    /// <summary>… doubling up to this.</summary>
    public double MaxBackoffSeconds { get; set; } = 60;

    public TimeSpan LeaseDuration => TimeSpan.FromSeconds(LeaseDurationSeconds);

    public TimeSpan RenewDeadline => TimeSpan.FromSeconds(RenewDeadlineSeconds);

    public TimeSpan RetryPeriod => TimeSpan.FromSeconds(RetryPeriodSeconds);

    public TimeSpan Resync => TimeSpan.FromSeconds(ResyncSeconds);

    public TimeSpan MinBackoff => TimeSpan.FromSeconds(MinBackoffSeconds);

    public TimeSpan MaxBackoff => TimeSpan.FromSeconds(MaxBackoffSeconds);

    /// <summary>The generator's username as the API server puts it in <c>userInfo.username</c>, or null (no guard).</summary>
    public string? EffectiveServiceAccount =>
        !string.IsNullOrWhiteSpace(ServiceAccount) ? ServiceAccountUser(ServiceAccount.Trim())
        : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } ns && Environment.GetEnvironmentVariable("POD_SERVICE_ACCOUNT") is { Length: > 0 } sa
            ? $"{ServiceAccountPrefix}{ns}:{sa}"
            : null;

    private const string ServiceAccountPrefix = "system:serviceaccount:";

    /// <summary><c>NS/NAME</c> or <c>system:serviceaccount:NS:NAME</c> as a username; null when it is neither.</summary>
    public static string? ServiceAccountUser(string value)
    {
        var parts = value.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal) ? value[ServiceAccountPrefix.Length..].Split(':') : value.Split('/');
        return parts is [{ Length: > 0 } ns, { Length: > 0 } name] && RoutingOptIn.Parse($"{ns}/{name}", '/') is not null
            ? $"{ServiceAccountPrefix}{ns}:{name}"
            : null;
    }

    /// <summary>The Lease namespace actually used.</summary>
    public string EffectiveLeaseNamespace =>
        !string.IsNullOrWhiteSpace(LeaseNamespace) ? LeaseNamespace
        : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } ns ? ns
        : "egress-webhook";

    /// <summary>A default identity: the pod name (unique among the replicas), else the machine name plus a random suffix.</summary>
    public static string DefaultIdentity() =>
        Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";
}
