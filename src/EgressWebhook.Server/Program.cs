using EgressWebhook.Server.Snapshots;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SnapshotStore>();

if (builder.Configuration["Webhook:Source"] == "Cluster") { builder.Services.AddClusterSnapshotSource(builder.Configuration); }

var app = builder.Build();
app.MapGet("/healthz", () => "ok");
app.Run();
