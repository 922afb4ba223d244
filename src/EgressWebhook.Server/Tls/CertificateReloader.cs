using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EgressWebhook.Server.Logging;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Tls;

/// <summary>Serves the TLS certificate to Kestrel's certificate selector and replaces it when the mounted
/// files change, without a restart. cert-manager's Secret volume swaps a <c>..data</c> symlink, which a
/// FileSystemWatcher on the files does not always report, so the files are also compared periodically.
/// A half-written pair (new cert, old key) fails to load and the current certificate stays.</summary>
internal sealed class CertificateReloader : IHostedService, IDisposable
{
    private readonly TlsOptions _options;
    private readonly ILogger<CertificateReloader> _logger;
    private readonly Lock _reloadLock = new();
    private volatile X509Certificate2 _current;
    private volatile X509Certificate2Collection? _clientCas;
    private byte[]? _loadedBytes;
    private FileSystemWatcher? _watcher;
    private Timer? _timer;
    private Timer? _debounce;

    public CertificateReloader(IOptions<WebhookOptions> options, ILogger<CertificateReloader> logger, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        _options = options.Value.Tls;
        _logger = logger;
        if (IsConfigured)
        {
            var (cert, bytes) = Load();
            _current = cert;
            _loadedBytes = bytes;
            LogLoaded(cert);
        }
        else
        {
            _current = CreateSelfSigned(time);
            _logger.SelfSignedCertificate();
        }

        if (ClientCaPath is { } clientCa)
        {
            _clientCas = LoadCas(clientCa);
            _logger.ClientCaLoaded(clientCa, _clientCas.Count);
        }
    }

    private bool IsConfigured => !string.IsNullOrWhiteSpace(_options.CertificateFile);

    /// <summary>The client CA bundle in use: none when client authentication is off (<c>RequireClientCertificate=false</c>).</summary>
    private string? ClientCaPath => _options.ClientAuthEnabled ? _options.ClientCaFile : null;

    public bool RequiresClientCertificate => _clientCas is not null;

    /// <summary>The certificate for new connections; established connections keep theirs.</summary>
    public X509Certificate2 Current => _current;

    /// <summary>Whether a client certificate chains to the configured CA bundle.</summary>
    public bool ValidateClient(X509Certificate2? certificate)
    {
        if (_clientCas is not { } cas || certificate is null)
        {
            return certificate is not null;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        var ok = chain.Build(certificate);
        if (!ok)
        {
            _logger.ClientCertificateRejected(certificate.Subject, chain.ChainStatus);
        }

        return ok;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsConfigured)
        {
            return Task.CompletedTask;
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(_options.CertificateFile!))!;
        _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        try
        {
            _watcher = new FileSystemWatcher(dir) { IncludeSubdirectories = false, EnableRaisingEvents = false };
            _watcher.Changed += (_, _) => Schedule();
            _watcher.Created += (_, _) => Schedule();
            _watcher.Renamed += (_, _) => Schedule();
            _watcher.Deleted += (_, _) => Schedule();
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // the periodic check still picks changes up
            _watcher?.Dispose();
            _watcher = null;
        }

        var period = TimeSpan.FromSeconds(_options.ReloadSeconds);
        _timer = new Timer(_ => Reload(), null, period, period);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _timer?.Dispose();
        _debounce?.Dispose();
    }

    private void Schedule() => _debounce?.Change(200, Timeout.Infinite);

    /// <summary>Loads the files when their bytes changed; keeps the current certificate when they do not load.</summary>
    internal void Reload()
    {
        lock (_reloadLock)
        {
            try
            {
                var bytes = ReadBoth();
                if (_loadedBytes is not null && bytes.AsSpan().SequenceEqual(_loadedBytes))
                {
                    return;
                }

                var (cert, read) = Load();
                _current = cert;
                _loadedBytes = read;
                if (ClientCaPath is { } clientCa)
                {
                    _clientCas = LoadCas(clientCa);
                }

                // the previous certificate is not disposed: handshakes in flight may still use it
                LogLoaded(cert);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                _logger.CertificateReloadFailed(ex.Message);
            }
        }
    }

    private void LogLoaded(X509Certificate2 cert)
    {
        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.CertificateLoaded(_options.CertificateFile!, cert.Subject, cert.NotAfter.ToUniversalTime(), cert.Thumbprint);
        }
    }

    private byte[] ReadBoth() => ReadFiles().Bytes;

    private (byte[] Bytes, byte[] Cert, byte[] Key) ReadFiles()
    {
        var cert = File.ReadAllBytes(_options.CertificateFile!);
        var key = File.ReadAllBytes(_options.KeyFile!);
        var ca = ClientCaPath is { } clientCa ? File.ReadAllBytes(clientCa) : [];
        return ([.. cert, 0, .. key, 0, .. ca], cert, key);
    }

    private (X509Certificate2 Certificate, byte[] Bytes) Load()
    {
        // the certificate is made from the very bytes remembered: reading the files a second time could pick up a
        // rotation in between and then never reload it
        var (bytes, certPem, keyPem) = ReadFiles();
        using var pem = X509Certificate2.CreateFromPem(System.Text.Encoding.UTF8.GetString(certPem), System.Text.Encoding.UTF8.GetString(keyPem));
        // re-import so the key is usable by SslStream on every platform (an ephemeral PEM key is not on Windows)
        var cert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        return (cert, bytes);
    }

    private static X509Certificate2Collection LoadCas(string path)
    {
        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(path);
        if (cas.Count == 0)
        {
            throw new CryptographicException($"{path} holds no PEM certificate");
        }

        return cas;
    }

    /// <summary>A self-signed certificate for localhost, made in memory: development only.</summary>
    internal static X509Certificate2 CreateSelfSigned(TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var now = time.GetUtcNow();
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
