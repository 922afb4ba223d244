using EgressWebhook.Server.Hosting;
using EgressWebhook.Server.Options;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Snapshots;

/// <summary>A snapshot source a builder call registered (<c>AddStateSource</c>, <c>AddClusterSource</c>): its
/// <c>Webhook:Source</c> name and its hosted service, created only when it is the one selected.</summary>
internal sealed record SnapshotSourceRegistration(string Name, Func<IServiceProvider, IHostedService> Create);

/// <summary>Picks the snapshot source from the validated <c>Webhook:Source</c> when the host starts its hosted services,
/// so that registration reads no configuration value raw; the sources not selected are never created.</summary>
internal sealed class SnapshotSourceSelector(IOptions<WebhookOptions> options, IEnumerable<SnapshotSourceRegistration> sources)
{
    /// <summary>The selected source's hosted service (a validation failure throws <see cref="OptionsValidationException"/>
    /// here, as at any start); <see cref="InactiveHostedService"/> when no builder call registered that source.</summary>
    public IHostedService Selected(IServiceProvider services)
    {
        var name = options.Value.Source;
        return sources.LastOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal)) is { } source
            ? source.Create(services)
            : InactiveHostedService.Instance;
    }

    /// <summary>Whether <paramref name="name"/> is the selected source.</summary>
    public bool IsSelected(string name) => string.Equals(options.Value.Source, name, StringComparison.Ordinal);
}
