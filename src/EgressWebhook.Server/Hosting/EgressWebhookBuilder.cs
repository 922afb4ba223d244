namespace EgressWebhook.Server.Hosting;

/// <summary>What <c>services.AddEgressWebhook(configuration)</c> returns, as YARP's <c>AddReverseProxy()</c> returns an
/// <c>IReverseProxyBuilder</c>: the sources, the generator and every other feature register themselves through an
/// extension method on it (<c>.AddStateSource()</c>, <c>.AddClusterSource()</c>, <c>.AddGenerator()</c>), so that
/// <c>WebhookHost</c> reads as one chain and a new feature is one more call.</summary>
/// <remarks>A feature's extension method registers its options with <c>AddOptions&lt;T&gt;().Bind(Configuration.GetSection(…))
/// .ValidateOnStart()</c> and an <c>IValidateOptions&lt;T&gt;</c>, its services with <c>TryAdd…</c>, and decides whether it
/// runs from its validated options when it is resolved (a hosted service that does nothing when off, a null object),
/// never by reading <see cref="Configuration"/> raw at registration.</remarks>
internal interface IEgressWebhookBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The host's configuration: only for binding options sections.</summary>
    IConfiguration Configuration { get; }
}

internal sealed class EgressWebhookBuilder(IServiceCollection services, IConfiguration configuration) : IEgressWebhookBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;
}

/// <summary>A hosted service that does nothing: what a feature registers in place of its own when its validated options
/// turn it off (the host's hosted-service list is fixed before options can be read).</summary>
internal sealed class InactiveHostedService : IHostedService
{
    public static InactiveHostedService Instance { get; } = new();

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
