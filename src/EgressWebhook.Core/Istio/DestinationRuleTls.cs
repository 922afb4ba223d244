using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>One client TLS block of a DestinationRule.</summary>
/// <param name="Path">Manifest path, e.g. <c>spec.trafficPolicy.portLevelSettings[0].tls</c>.</param>
/// <param name="Tls">The settings.</param>
/// <param name="Port">The port of a port-level block, else null.</param>
/// <param name="Subset">The subset name of a subset-level block, else null.</param>
internal readonly record struct ClientTlsBlock(string Path, ClientTlsSettings Tls, int? Port, string? Subset);

/// <summary>Where a DestinationRule can set client TLS: the top-level traffic policy, its port-level settings,
/// and the same two places in each subset's traffic policy.</summary>
internal static class DestinationRuleTls
{
    /// <summary>Every TLS block of <paramref name="spec"/> in manifest order.</summary>
    public static IEnumerable<ClientTlsBlock> Blocks(DestinationRuleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        foreach (var block in Blocks("spec.trafficPolicy", spec.TrafficPolicy, null))
        {
            yield return block;
        }

        for (var s = 0; s < spec.Subsets.Count; s++)
        {
            // a "~" list item decodes to null
            if (spec.Subsets[s] is not { } subset)
            {
                continue;
            }

            foreach (var block in Blocks($"spec.subsets[{s}].trafficPolicy", subset.TrafficPolicy, subset.Name))
            {
                yield return block;
            }
        }
    }

    private static IEnumerable<ClientTlsBlock> Blocks(string prefix, TrafficPolicy? policy, string? subset)
    {
        if (policy is null)
        {
            yield break;
        }

        if (policy.Tls is { } tls)
        {
            yield return new ClientTlsBlock($"{prefix}.tls", tls, null, subset);
        }

        for (var i = 0; i < policy.PortLevelSettings.Count; i++)
        {
            if (policy.PortLevelSettings[i] is { Tls: { } portTls } level)
            {
                yield return new ClientTlsBlock($"{prefix}.portLevelSettings[{i}].tls", portTls, level.Port?.Number, subset);
            }
        }
    }
}
