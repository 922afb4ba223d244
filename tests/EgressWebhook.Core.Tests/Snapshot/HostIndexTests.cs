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
            var index = new HostIndex<string>();
            for (var i = 0; i < hosts.Count; i++)
            {
                index.Add(hosts[i], $"item{i}");
            }

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
}
