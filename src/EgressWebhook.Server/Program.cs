using EgressWebhook.Server.Snapshots;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SnapshotStore>();

var app = builder.Build();
app.MapGet("/healthz", () => "ok");
app.Run();
