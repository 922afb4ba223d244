namespace EgressWebhook.Deploy.Tests.Infrastructure;

/// <summary>The server contract (routes, ports, in-cluster names, configuration keys) that the manifests,
/// the Dockerfile and the certificate script must agree with. The one place these values are written in
/// the tests; <see cref="ServerContractTests"/> checks them against the server's sources.</summary>
public static class ServerContract
{
    public const string ServerProject = "src/EgressWebhook.Server/EgressWebhook.Server.csproj";

    public const string ValidatePath = "/validate";
    public const string MutatePath = "/mutate";
    public const string LivePath = "/healthz";
    public const string ReadyPath = "/readyz";
    public const string MetricsPath = "/metrics";

    /// <summary>HTTPS admission port in the container.</summary>
    public const int AdmissionPort = 8443;

    /// <summary>Plain-HTTP health/metrics port in the container (<c>Webhook:HealthPort</c>).</summary>
    public const int HealthPort = 8080;

    public const int ServicePort = 443;

    public const string Namespace = "egress-webhook";
    public const string ServiceName = "egress-webhook";
    public const string ServiceAccount = "egress-webhook";
    public const string TlsSecret = "egress-webhook-tls";
    public const string TlsMountPath = "/etc/egress-webhook/tls";

    /// <summary>The non-root user of the chiseled ASP.NET image ("app").</summary>
    public const long AppUserId = 1654;

    /// <summary>Where Istio keeps the mesh config ConfigMaps (<c>istio</c>, <c>istio-&lt;rev&gt;</c>).</summary>
    public const string IstioRootNamespace = "istio-system";

    /// <summary>Environment variables (configuration keys <c>Webhook:X</c>) the manifests set.</summary>
    public static class Env
    {
        public const string Source = "Webhook__Source";
        public const string WarnOnly = "Webhook__WarnOnly";
        public const string FailureMode = "Webhook__FailureMode";
        public const string WhenNotSynced = "Webhook__Cluster__WhenNotSynced";
        public const string CertificateFile = "Webhook__Tls__CertificateFile";
        public const string KeyFile = "Webhook__Tls__KeyFile";
        public const string HealthPort = "Webhook__HealthPort";
        public const string ShutdownDelay = "Webhook__ShutdownDelaySeconds";
        public const string ShutdownTimeout = "Webhook__ShutdownTimeoutSeconds";
        public const string RequireClientCertificate = "Webhook__Tls__RequireClientCertificate";
        public const string ClientCaFile = "Webhook__Tls__ClientCaFile";
        public const string GeneratorEnabled = "Webhook__Generator__Enabled";
        public const string AuditEnabled = "Webhook__Audit__Enabled";
    }

    /// <summary>The Leases of leader election in the webhook's namespace (the generator's and the background audit's).</summary>
    public static readonly string[] Leases = ["egress-webhook-generator", "egress-webhook-audit"];

    /// <summary>The Istio kinds the validating webhook checks (plural resource names).</summary>
    public static readonly string[] ValidatedResources = ["serviceentries", "gateways", "virtualservices", "destinationrules", "sidecars"];

    /// <summary>Every networking.istio.io version that serves these kinds.</summary>
    public static readonly string[] IstioVersions = ["v1alpha3", "v1beta1", "v1"];

    public static string ServiceDnsName => $"{ServiceName}.{Namespace}.svc";
}
