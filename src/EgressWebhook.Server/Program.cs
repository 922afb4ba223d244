using EgressWebhook.Server;

// Webhook:Source selects the state directory or the live cluster inside AddEgressWebhook (WebhookHost.CreateBuilder)
return await WebhookHost.RunAsync(args);
