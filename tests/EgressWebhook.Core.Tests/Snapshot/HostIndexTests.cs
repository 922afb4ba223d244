using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Snapshot;

/// <summary>The host index and <see cref="HostCover"/> give exactly what comparing every pair with
/// <see cref="HostName.Matches"/> / <see cref="HostName.SubsetOf"/> gives, for exact hosts, wildcards, partial
/// wildcards (<c>*foo.com</c>) and <c>*</c>, on both sides.</summary>
public sealed class HostIndexTests
{
    private static readonly string[] Labels = ["a", "b", "ab", "foo", "oo", "com", "example", "xample"];

    private static string RandomHost(Random random)
    {
        var labels = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Labels[random.Next(Labels.Length)]);
        var name = string.Join('.', labels);
        return random.Next(6) switch
        {
            0 => "*." + name,
            1 => "*" + name,
            2 when random.Next(4) == 0 => "*",
            _ => name,
        };
    }

    [Fact]
    public void Query_MatchesEveryPairComparison()
    {
        var random = new Random(13);
        for (var round = 0; round < 200; round++)
        {
            var hosts = Enumerable.Range(0, random.Next(1, 30)).Select(_ => RandomHost(random)).ToList();
            // built one entry at a time on odd rounds, in bulk on even ones: both paths must index alike
            var builder = HostIndex<string>.Create(StringComparer.Ordinal).ToBuilder(bulk: round % 2 == 0);
            for (var i = 0; i < hosts.Count; i++)
            {
                builder.Add(hosts[i], $"item{i}");
            }

            var index = builder.ToImmutable();

            foreach (var query in Enumerable.Range(0, 20).Select(_ => RandomHost(random)).Concat(hosts))
            {
                var found = new List<HostMatch<string>>();
                index.Query(query, found);
                var expected = hosts.Select((h, i) => new HostMatch<string>($"item{i}", h)).Where(m => HostName.Matches(m.Host, query));

                Assert.True(expected.Select(m => m.ToString()).Order(StringComparer.Ordinal).SequenceEqual(found.Select(m => m.ToString()).Order(StringComparer.Ordinal)),
                    $"{query} in [{string.Join(", ", hosts)}]: expected [{string.Join(", ", expected.Select(m => m.Host))}], found [{string.Join(", ", found.Select(m => m.Host))}]");
            }
        }
    }

    [Fact]
    public void Cover_IsSubsetOfSomeHost()
    {
        var random = new Random(14);
        for (var round = 0; round < 200; round++)
        {
            var hosts = Enumerable.Range(0, random.Next(1, 20)).Select(_ => RandomHost(random)).ToList();
            var cover = new HostCover(hosts);
            foreach (var host in Enumerable.Range(0, 30).Select(_ => RandomHost(random)))
            {
                Assert.True(hosts.Exists(h => HostName.SubsetOf(host, h)) == cover.Covers(host), $"{host} in [{string.Join(", ", hosts)}]");
            }
        }
    }

    private static readonly string LongestName = string.Concat(Enumerable.Repeat("abcdefgh.", 28)) + "x.com"; // 257

    [Theory]
    [InlineData(253, false)]
    [InlineData(254, true)]
    public void IsOverlong_PlainHost_AboveTheLongestDnsName(int length, bool overlong) =>
        Assert.Equal(overlong, HostName.IsOverlong(LongestName[^length..]));

    [Theory]
    [InlineData(253, false)]
    [InlineData(254, true)]
    public void IsOverlong_Wildcard_AllowsItsTwoCharacters(int nameLength, bool overlong) =>
        Assert.Equal(overlong, HostName.IsOverlong("*." + LongestName[^nameLength..]));

    [Fact]
    public void OverlongHost_MatchesOnlyItself_InTheIndexTheCoverAndPairwise()
    {
        var overlong = "a." + LongestName;
        string[] hosts = [overlong, "*.com", "*x.com", "*", "b.x.com"];
        var builder = HostIndex<string>.Create(StringComparer.Ordinal).ToBuilder();
        foreach (var h in hosts)
        {
            builder.Add(h, h);
        }

        var index = builder.ToImmutable();

        foreach (var query in hosts.Append("*.x.com").Append("*." + overlong))
        {
            var found = new List<HostMatch<string>>();
            index.Query(query, found);
            var expected = hosts.Where(h => HostName.Matches(h, query)).Order(StringComparer.Ordinal);
            Assert.Equal(expected, found.Select(m => m.Host).Distinct().Order(StringComparer.Ordinal));
        }

        var found2 = new List<HostMatch<string>>();
        index.Query(overlong, found2);
        Assert.Equal([overlong], found2.Select(m => m.Host));
        Assert.False(HostName.Matches("*", overlong));
        Assert.False(HostName.SubsetOf(overlong, "*.com"));
        Assert.True(HostName.SubsetOf(overlong, overlong));
        Assert.False(new HostCover(["*", "*.com"]).Covers(overlong));
        Assert.True(new HostCover([overlong]).Covers(overlong));
        Assert.False(new HostCover([overlong]).Covers("b.x.com"));
        Assert.True(HostName.Matches("*.com", LongestName[^253..]));
    }
}
