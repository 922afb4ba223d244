using System.Text;
using System.Text.Json;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Core.Tests.Trace;

/// <summary>The host inventory behind <c>kubectl-egress hosts</c> is bounded, and says so when the bound cuts it.</summary>
public sealed class HostInventoryTests
{
    private static IReadOnlyList<HostRow> Inventory(int entries)
    {
        var yaml = new StringBuilder();
        for (var i = 0; i < entries; i++)
        {
            yaml.Append($"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: e{i}, namespace: team}}\n")
                .Append($"spec: {{hosts: [h{i}.example.com], ports: [{{number: 443, name: tls, protocol: TLS}}], resolution: DNS}}\n---\n");
        }

        return HostInventory.Build(EgressSnapshot.Create(ManifestReader.Read(yaml.ToString(), "default")));
    }

    [Fact]
    public void MoreHostsThanTheLimit_ListingStops_AndTextAndJsonSaySo()
    {
        var rows = Inventory(EgressMap.MaxTraces + 1);

        Assert.Equal(EgressMap.MaxTraces, rows.Count);
        Assert.Contains($"Listing stopped at {EgressMap.MaxTraces} paths", HostInventory.Text(rows), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(HostInventory.Json(rows));
        Assert.True(json.RootElement.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public void UnderTheLimit_EveryHostListed_NotTruncated()
    {
        var rows = Inventory(3);

        Assert.Equal(3, rows.Count);
        Assert.DoesNotContain("Listing stopped", HostInventory.Text(rows), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(HostInventory.Json(rows));
        Assert.False(json.RootElement.GetProperty("truncated").GetBoolean());
    }
}
