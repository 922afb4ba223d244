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

        // four dotted decimal octets of 1-3 digits, each at most 255 (no allocation: an entry may list 100,000 endpoints)
        var octets = 0;
        var value = 0;
        var digits = 0;
        foreach (var c in address)
        {
            if (char.IsAsciiDigit(c))
            {
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255)
                {
                    return false;
                }
            }
            else if (c == '.' && digits > 0 && octets < 3)
            {
                octets++;
                value = digits = 0;
            }
            else
            {
                return false;
            }
        }

        return octets == 3 && digits > 0;
    }

    /// <summary>Whether <paramref name="address"/> is a <c>unix://</c> socket endpoint.</summary>
    public static bool IsUnixSocket(string address) => address.StartsWith(UnixPrefix, StringComparison.Ordinal);
}
