using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>EGW209: a host longer than a DNS name can be (<see cref="HostName.IsOverlong"/>): 253 characters, 255 for
/// a wildcard. Istio's validation refuses hosts above 255 characters, and no DNS name exceeds 253.</summary>
/// <remarks>One finding per object, on the first such host, with the count of the others. The indexes never
/// suffix-expand such a host (it matches only itself), so a few huge hosts cost their length, not its square.</remarks>
internal sealed class Egw209HostTooLong : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.HostTooLong];

    public bool AppliesTo(ResourceKind kind) =>
        kind is ResourceKind.ServiceEntry or ResourceKind.VirtualService or ResourceKind.DestinationRule or ResourceKind.Gateway;

    public void Check(EgressObject subject, RuleContext context)
    {
        string? first = null;
        string? path = null;
        var count = 0;
        foreach (var (host, at) in HostsOf(subject))
        {
            if (host is not null && HostName.IsOverlong(host))
            {
                count++;
                if (first is null)
                {
                    first = host;
                    path = at();
                }
            }
        }

        if (first is null)
        {
            return;
        }

        var others = count > 1 ? $" (+{count - 1} more)" : "";
        context.Report(RuleIds.HostTooLong, Severity.Error, subject, path!,
            $"host of {first.Length} characters ({first[..16]}…) is longer than a DNS name (max {HostName.MaxLengthOf(first)}){others}; shorten it");
    }

    /// <summary>Every host field of the object with a way to name it (only built for the finding).</summary>
    private static IEnumerable<(string? Host, Func<string> Path)> HostsOf(EgressObject subject)
    {
        switch (subject)
        {
            case ServiceEntry se:
                for (var i = 0; i < se.Spec.Hosts.Count; i++)
                {
                    var index = i;
                    yield return (se.Spec.Hosts[i], () => $"spec.hosts[{index}]");
                }

                break;
            case VirtualService vs:
                for (var i = 0; i < vs.Spec.Hosts.Count; i++)
                {
                    var index = i;
                    yield return (vs.Spec.Hosts[i], () => $"spec.hosts[{index}]");
                }

                foreach (var d in RouteDestinations.Of(vs))
                {
                    yield return (d.Destination.Host, () => $"{d.Path}.host");
                }

                break;
            case DestinationRule dr:
                yield return (dr.Spec.Host, () => "spec.host");
                break;
            case Gateway gw:
                for (var s = 0; s < gw.Spec.Servers.Count; s++)
                {
                    if (gw.Spec.Servers[s] is not { } server)
                    {
                        continue;
                    }

                    for (var i = 0; i < server.Hosts.Count; i++)
                    {
                        var (si, hi) = (s, i);
                        yield return (server.Hosts[i] is { } h ? NamespacedHost.DnsName(h) : null, () => $"spec.servers[{si}].hosts[{hi}]");
                    }
                }

                break;
            default:
                break;
        }
    }
}
