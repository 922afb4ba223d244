using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Mutation;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Server.Options;

/// <summary>Section <c>Webhook</c> (env <c>Webhook__X</c>). Mutable for the binder; validated at startup by
/// <see cref="WebhookOptionsValidator"/>; Core only sees the <see cref="AdmissionSettings"/> built from it.</summary>
/// <remarks>The enum, duration and port settings are typed here and bound once, by <see cref="WebhookOptionsSetup"/>
/// (they are <c>internal</c>, so the configuration binder, which would throw on a bad value, leaves them alone): a bad
/// value becomes one line of the start-up validation rather than a conversion exception.</remarks>
internal sealed class WebhookOptions
{
    public const string SectionName = "Webhook";
    public const string StateSource = "State";
    public const string ClusterSource = "Cluster";

    /// <summary><c>State</c> (a directory of manifests) or <c>Cluster</c> (the live API).</summary>
    public string Source { get; set; } = StateSource;

    /// <summary>Directory of manifests (<c>--state DIR</c>), reloaded when its files change.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>How often the state directory is checked besides file-system events (missed on some volumes).</summary>
    public double StatePollSeconds { get; set; } = 2;

    /// <summary><c>ALLOW_ANY</c> or <c>REGISTRY_ONLY</c> (<c>--outbound-policy</c>); overrides the mesh config.</summary>
    public string? OutboundPolicy { get; set; }

    /// <summary>Per-rule enforcement: <c>Webhook:Rules:EGW105=Warn</c> (bound by <see cref="WebhookOptionsSetup"/>; the ids
    /// upper-cased).</summary>
    internal Dictionary<string, Enforcement> Rules { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every rule as a warning (audit-only rollout); explicit <see cref="Rules"/> still win.</summary>
    public bool WarnOnly { get; set; }

    public List<string> ExemptNamespaces { get; set; } = [];

    /// <summary><c>Tolerant</c> (default): a finding that rests on a missing object is admitted with a warning and
    /// re-checked after <see cref="GracePeriod"/>; <c>Strict</c>: it denies (per rule: <c>Webhook:Rules:EGW113=Strict</c>).</summary>
    internal ChainEnforcement Enforcement { get; set; } = ChainEnforcement.Tolerant;

    /// <summary>How long an admitted incompleteness may wait (<c>30s</c>, <c>2m</c>, or seconds); then it is reported.</summary>
    internal TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many objects wait for their re-check at once; a re-check beyond it is dropped (counted, logged).</summary>
    public int MaxPendingRechecks { get; set; } = 10_000;

    /// <summary>What <see cref="WebhookOptionsSetup"/> could not bind (a value not of its setting's type), one line each;
    /// reported by <see cref="WebhookOptionsValidator"/>.</summary>
    internal List<string> BindFailures { get; } = [];

    /// <summary><see cref="GracePeriod"/> as a span (Go duration or a number of seconds); null when it is neither.</summary>
    public static TimeSpan? ParseGracePeriod(string? text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds)
            ? TimeSpan.FromSeconds(seconds)
            : Endpoints.AdmissionBody.ParseGoDuration(text);

    /// <summary><c>Deny</c> (default) or <c>Allow</c>: the answer when the check cannot run.</summary>
    internal FailureMode FailureMode { get; set; } = FailureMode.Deny;

    /// <summary><c>stdout</c> (default), <c>off</c>, or a file path.</summary>
    public string AuditLog { get; set; } = "stdout";

    /// <summary>Plain-HTTP port for /healthz, /readyz, /metrics; 0 = only on the main endpoint.</summary>
    internal int HealthPort { get; set; } = 8080;

    /// <summary>IP address the health port binds (an IPv4 or IPv6 literal); all IPv4 interfaces by default, as a pod's
    /// kubelet probes and Prometheus need. <c>--urls</c> does not apply to it.</summary>
    public string HealthAddress { get; set; } = "0.0.0.0";

    /// <summary>Maps <c>POST /floor</c> (parse only, always allowed): the load test's baseline.</summary>
    public bool EnableFloorEndpoint { get; set; }

    public TlsOptions Tls { get; set; } = new();

    /// <summary>After SIGTERM, <c>/readyz</c> answers 503 at once and requests are still served this long, so that the
    /// endpoints drop the pod before it stops listening; 0 = stop at once.</summary>
    public double ShutdownDelaySeconds { get; set; } = 5;

    /// <summary>The whole shutdown (the delay, then the requests in flight, then the audit flush) is cut off after this;
    /// keep it below the pod's <c>terminationGracePeriodSeconds</c> with a margin.</summary>
    public double ShutdownTimeoutSeconds { get; set; } = 25;

    /// <summary><c>Webhook:Limits:*</c>: Kestrel's connection, timeout and size limits.</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary><c>Webhook:Mutation:*</c>: egress-gateway routing.</summary>
    public MutationOptions Mutation { get; set; } = new();

    /// <summary>The routing policy of <c>/mutate</c> and the generator: the one place it is built from configuration.
    /// Call only on validated options.</summary>
    public MutationPolicy ToMutationPolicy() => Mutation.ToPolicy();

    /// <summary>The policy Core takes. Call only on validated options.</summary>
    public AdmissionSettings ToSettings() => new()
    {
        Policy = new RuleSettings
        {
            OutboundPolicy = OutboundPolicies.Parse(OutboundPolicy),
            WarnOnly = WarnOnly,
            // the live cache holds every object of the kinds the rules read: a missing one is missing
            WholeCluster = string.Equals(Source, ClusterSource, StringComparison.OrdinalIgnoreCase),
            Overrides = Rules.ToDictionary(r => r.Key.ToUpperInvariant(), r => r.Value, StringComparer.Ordinal),
        },
        ExemptNamespaces = ExemptNamespaces.Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal),
        FailureMode = FailureMode,
        Mutation = ToMutationPolicy(),
        Enforcement = Enforcement,
        GracePeriod = GracePeriod,
    };
}

internal sealed class MutationOptions
{
    /// <summary>Cluster-wide default egress gateway Service <c>&lt;namespace&gt;/&lt;service&gt;</c> for ServiceEntries
    /// not opted in or out otherwise; unset = opt-in per entry (annotation) or namespace (label) only.</summary>
    public string? DefaultGateway { get; set; }

    /// <summary>The mesh runs Istio 1.28+: ambient wildcard entries get <c>resolution: DYNAMIC_DNS</c> (<see cref="MutationPolicy.DynamicDns"/>).</summary>
    public bool DynamicDns { get; set; }

    /// <summary>The Core policy; a blank <see cref="DefaultGateway"/> means none.</summary>
    public MutationPolicy ToPolicy() =>
        string.IsNullOrWhiteSpace(DefaultGateway) && !DynamicDns ? MutationPolicy.Default
            : new MutationPolicy { DefaultGateway = string.IsNullOrWhiteSpace(DefaultGateway) ? null : DefaultGateway.Trim(), DynamicDns = DynamicDns };
}

internal sealed class TlsOptions
{
    /// <summary>PEM certificate (cert-manager <c>tls.crt</c>).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key (cert-manager <c>tls.key</c>).</summary>
    public string? KeyFile { get; set; }

    /// <summary>PEM CA bundle; when set, clients must present a certificate it signed.</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>Require a client certificate signed by <see cref="ClientCaFile"/> (which must then be set). Unset = required
    /// exactly when <see cref="ClientCaFile"/> is set; <c>false</c> = no client certificate asked for, even with a CA file.</summary>
    public bool? RequireClientCertificate { get; set; }

    /// <summary>Whether client certificates are required, after the rule of <see cref="RequireClientCertificate"/>.</summary>
    public bool ClientAuthEnabled => RequireClientCertificate ?? !string.IsNullOrWhiteSpace(ClientCaFile);

    /// <summary>How often the files are compared besides file-system events (a Secret volume swaps a <c>..data</c> link).</summary>
    public double ReloadSeconds { get; set; } = 10;
}

/// <summary>Kestrel's limits (section <c>Webhook:Limits</c>): a flood of slow or idle connections is cut off by time and
/// count, so memory stays bounded and the API server's own connections keep being served.</summary>
internal sealed class LimitsOptions
{
    /// <summary>Open connections per endpoint (Kestrel counts each listen address apart, so the health port has its own
    /// count and a flood on the admission port does not refuse the probes); more are closed as soon as they are accepted.</summary>
    public long MaxConnections { get; set; } = 512;

    /// <summary>An idle keep-alive connection is closed after this (HTTP/2: a GOAWAY first).</summary>
    public double KeepAliveSeconds { get; set; } = 30;

    /// <summary>The TLS handshake must be done within this.</summary>
    public double HandshakeTimeoutSeconds { get; set; } = 5;

    /// <summary>A request's headers must have arrived within this after the connection is ready for them.</summary>
    public double RequestHeadersTimeoutSeconds { get; set; } = 5;

    /// <summary>A body that arrives slower than this (after a grace period) ends the request.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 16384;

    /// <summary>The grace period before <see cref="MinRequestBodyBytesPerSecond"/> applies, and the same for responses.</summary>
    public double MinDataRateGraceSeconds { get; set; } = 2;

    /// <summary>The request line and headers together, in bytes.</summary>
    public int MaxRequestHeadersBytes { get; set; } = 16384;

    /// <summary>How many request headers.</summary>
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>Concurrent HTTP/2 streams per connection.</summary>
    public int Http2MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Bytes Kestrel buffers per connection before the application reads them (HTTP/1.1), and the HTTP/2
    /// connection window; the stream window is half of it.</summary>
    public int MaxRequestBufferBytes { get; set; } = 131072;

    /// <summary>A review whose body is over this many bytes waits its turn for <see cref="LargeReviewBytesInFlight"/>
    /// (<see cref="Endpoints.LargeReviewGate"/>); smaller ones never wait.</summary>
    public long LargeReviewBytes { get; set; } = 256 * 1024;

    /// <summary>The bytes of the large reviews decoded and checked at once: one review of 3 MiB (or several smaller)
    /// by default; two of 3 MiB at once, with the raw bodies of 22 more waiting, took a 288 MiB heap (a 384 Mi pod)
    /// past its limit.</summary>
    public long LargeReviewBytesInFlight { get; set; } = 4 * 1024 * 1024;
}
