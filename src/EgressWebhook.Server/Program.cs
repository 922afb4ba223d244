using EgressWebhook.Server;
using EgressWebhook.Server.Options;

return await WebhookHost.RunAsync(args, static builder =>
{
    if (builder.Configuration[$"{WebhookOptions.SectionName}:{nameof(WebhookOptions.Source)}"] == WebhookOptions.ClusterSource)
    {
        builder.Services.AddClusterSnapshotSource(builder.Configuration);
    }
});
