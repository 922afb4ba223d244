using EgressWebhook.Server;
using EgressWebhook.Server.Options;

return await WebhookHost.RunAsync(args, static builder =>
{
    if (builder.Configuration[$"{WebhookOptions.SectionName}:{nameof(WebhookOptions.Source)}"] == WebhookOptions.ClusterSource)
    {
        // PLACEHOLDER (live-cluster source issue): replace this throw with
        //     builder.Services.AddClusterSnapshotSource(builder.Configuration);
        // from src/EgressWebhook.Server/Cluster/ once that helper's branch is merged.
        throw new InvalidOperationException("Webhook:Source=Cluster is not available in this build");
    }
});
