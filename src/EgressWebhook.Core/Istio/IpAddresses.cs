using System.Net;
using System.Net.Sockets;

namespace EgressWebhook.Core.Istio;

/// <summary>Address forms Istio distinguishes in ServiceEntry <c>addresses</c> and <c>endpoints</c>.</summary>
internal static class IpAddresses
{
    /// <summary>Prefix of a Unix domain socket endpoint (<c>unix:///var/run/app.sock</c>).</summary>
    public const string UnixPrefix = "unix://";

    /// <summary>Istio takes any address containing a <c>/</c> as a CIDR range.</summary>
    public static bool IsCidr(string address) => address.Contains('/', StringComparison.Ordinal);

    /// <summary>Whether <paramref name="address"/> is a plain IPv4 dotted quad or an IPv6 address, as Go's
    /// <c>net.ParseIP</c> reads it (no CIDR suffix, no zone, no brackets, no short IPv4 forms like <c>10.1</c>).</summary>
    public static bool IsIp(string address)
    {
        if (address.Contains(':', StringComparison.Ordinal))
        {
            return address.IndexOfAny(['%', '[', ']', '/']) < 0 &&
                   IPAddress.TryParse(address, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
        }

        var parts = address.Split('.');
        return parts.Length == 4 && parts.All(static p =>
            p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) &&
            int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
    }

    /// <summary>Whether <paramref name="address"/> is a <c>unix://</c> socket endpoint.</summary>
    public static bool IsUnixSocket(string address) => address.StartsWith(UnixPrefix, StringComparison.Ordinal);
}
