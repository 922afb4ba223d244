namespace EgressWebhook.Core.Model;

/// <summary>Istio port protocols. Compare with <see cref="StringComparer.OrdinalIgnoreCase"/>.</summary>
internal static class Protocols
{
    public const string Http = "HTTP";
    public const string Https = "HTTPS";
    public const string Grpc = "GRPC";
    public const string GrpcWeb = "GRPC-WEB";
    public const string Http2 = "HTTP2";
    public const string HttpProxy = "HTTP_PROXY";
    public const string Mongo = "MONGO";
    public const string Tcp = "TCP";
    public const string Tls = "TLS";
    public const string Udp = "UDP";
    public const string Mysql = "MYSQL";
    public const string Redis = "REDIS";

    private static readonly HashSet<string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        Http, Https, Grpc, GrpcWeb, Http2, HttpProxy, Mongo, Tcp, Tls, Udp, Mysql, Redis,
    };

    public static bool Is(string? protocol, string expected) => string.Equals(protocol, expected, StringComparison.OrdinalIgnoreCase);

    public static bool IsKnown(string? protocol) => protocol is not null && Known.Contains(protocol);

    /// <summary>HTTP family: the proxy parses HTTP on the port.</summary>
    public static bool IsHttp(string? protocol) =>
        Is(protocol, Http) || Is(protocol, Http2) || Is(protocol, HttpProxy) || Is(protocol, Grpc) || Is(protocol, GrpcWeb);

    /// <summary>TLS family: the proxy routes on SNI without terminating.</summary>
    public static bool IsTls(string? protocol) => Is(protocol, Https) || Is(protocol, Tls);
}
