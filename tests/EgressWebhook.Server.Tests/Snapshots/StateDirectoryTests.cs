using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Snapshots;

/// <summary>The state directory is the snapshot: a change there changes the next decision; a bad file keeps the last good one.</summary>
public sealed class StateDirectoryTests
{
    private const string Later = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: later, namespace: default}
        spec: {hosts: [later.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
        """;

    [Fact]
    public async Task StateDirectory_FilesChange_NextDecisionFollowsAndBadFileKeepsLastGood()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);
        var review = () => Reviews.Create("CREATE", Reviews.VirtualService("needs-later", (AnnotationRule.Requires, "ServiceEntry/default/later")));
        var allowed = async () => (await server.PostAsync(review())).Allowed;

        Assert.False(await allowed());

        await File.WriteAllTextAsync(Path.Combine(server.StateDirectory, "10-later.yaml"), Later);
        Assert.True(await WebhookServer.EventuallyAsync(allowed, TimeSpan.FromSeconds(10)), "adding the ServiceEntry did not change the decision");

        await File.WriteAllTextAsync(Path.Combine(server.StateDirectory, "20-broken.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: [oops\n");
        await File.WriteAllTextAsync(Path.Combine(server.StateDirectory, "10-later.yaml"), "# emptied in the same change as the broken file\n");
        Assert.True(await WebhookServer.EventuallyAsync(
            async () => (await server.Client.GetStringAsync("/metrics")).Contains("\negress_webhook_snapshot_load_failing 1\n", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)), "the broken file was not reported in the metrics");
        Assert.True(await allowed(), "a broken file replaced the last good snapshot");
        Assert.Contains("\negress_webhook_snapshot_loads_total{result=\"error\"} ", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);

        File.Delete(Path.Combine(server.StateDirectory, "20-broken.yaml"));
        Assert.True(await WebhookServer.EventuallyAsync(async () => !await allowed(), TimeSpan.FromSeconds(10)), "fixing the directory did not reload it");
        Assert.True(await WebhookServer.EventuallyAsync(
            async () => (await server.Client.GetStringAsync("/metrics")).Contains("\negress_webhook_snapshot_load_failing 0\n", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5)), "the recovered load is still reported as failing");
    }
}
