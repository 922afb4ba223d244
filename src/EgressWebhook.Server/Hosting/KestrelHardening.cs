using System.Net.Security;
using EgressWebhook.Server.Options;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace EgressWebhook.Server.Hosting;

/// <summary>Kestrel's limits and TLS settings from <see cref="LimitsOptions"/>: connections bounded in count and time, so a
/// flood of slow or idle connections holds a bounded amount of memory; TLS 1.2 only with AEAD suites, TLS 1.3 preferred.</summary>
internal static class KestrelHardening
{
    /// <summary>TLS 1.3's suites, then TLS 1.2's ECDHE suites with AES-GCM or ChaCha20-Poly1305: no CBC, no RSA key
    /// exchange, no SHA-1 MAC. Go's TLS client (the API server) offers all of them.</summary>
    internal static readonly TlsCipherSuite[] AeadSuites =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    public static void ApplyLimits(KestrelServerOptions kestrel, LimitsOptions limits)
    {
        var l = kestrel.Limits;
        l.MaxConcurrentConnections = limits.MaxConnections;
        l.MaxConcurrentUpgradedConnections = 0;
        l.KeepAliveTimeout = TimeSpan.FromSeconds(limits.KeepAliveSeconds);
        l.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersTimeoutSeconds);
        var grace = TimeSpan.FromSeconds(limits.MinDataRateGraceSeconds);
        l.MinRequestBodyDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, grace);
        l.MinResponseDataRate = new MinDataRate(limits.MinRequestBodyBytesPerSecond, grace);
        l.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersBytes;
        l.MaxRequestLineSize = Math.Min(l.MaxRequestLineSize, limits.MaxRequestHeadersBytes);
        l.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        l.MaxRequestBufferSize = limits.MaxRequestBufferBytes;
        l.Http2.MaxStreamsPerConnection = limits.Http2MaxStreamsPerConnection;
        l.Http2.MaxRequestHeaderFieldSize = Math.Min(l.Http2.MaxRequestHeaderFieldSize, limits.MaxRequestHeadersBytes);
        l.Http2.InitialConnectionWindowSize = limits.MaxRequestBufferBytes;
        l.Http2.InitialStreamWindowSize = Math.Max(65535, limits.MaxRequestBufferBytes / 2);
    }

    public static void ApplyTls(HttpsConnectionAdapterOptions https, LimitsOptions limits)
    {
        https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
        https.HandshakeTimeout = TimeSpan.FromSeconds(limits.HandshakeTimeoutSeconds);
        if (OperatingSystem.IsLinux())
        {
            // OpenSSL takes a suite list on Linux only; elsewhere the platform's defaults apply (docs/server.md)
            var policy = new CipherSuitesPolicy(AeadSuites);
            https.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = policy;
        }
    }
}
