using System.Globalization;
using EgressWebhook.Core.Istio;

namespace EgressWebhook.Core.Tests.Istio;

/// <summary><see cref="IpAddresses.IsIp"/>: dotted IPv4 read without allocating, as the split-and-parse it replaced read it.</summary>
public sealed class IpAddressesTests
{
    [Theory]
    [InlineData("10.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("000.0.0.0", true)]
    [InlineData("256.1.1.1", false)]
    [InlineData("1.2.3", false)]
    [InlineData("1.2.3.4.", false)]
    [InlineData(".1.2.3", false)]
    [InlineData("1..2.3", false)]
    [InlineData("0000.1.1.1", false)]
    [InlineData("1.2.3.4 ", false)]
    [InlineData("", false)]
    [InlineData("api.example.com", false)]
    [InlineData("2001:db8::1", true)]
    [InlineData("[2001:db8::1]", false)]
    public void IsIp(string address, bool expected) => Assert.Equal(expected, IpAddresses.IsIp(address));

    [Fact]
    public void IsIp_AgreesWithSplitAndParse_OnRandomDottedText()
    {
        var random = new Random(20261207);
        const string alphabet = "0123456789.....a ";
        for (var i = 0; i < 200_000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 17)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            Assert.True(Reference(text) == IpAddresses.IsIp(text), $"'{text}'");
        }
    }

    private static bool Reference(string address)
    {
        var parts = address.Split('.');
        return parts.Length == 4 && parts.All(static p =>
            p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }
}
