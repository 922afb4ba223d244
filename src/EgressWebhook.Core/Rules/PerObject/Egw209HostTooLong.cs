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
        foreach (var field in HostsOf(subject, context))
        {
            if (field.Host is { } host && HostName.IsOverlong(host))
            {
                count++;
                if (first is null)
                {
                    first = host;
                    path = field.Describe();
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

    /// <summary>Every host field of the object with what names it (the path is only formatted for the finding: an
    /// object may list 150,000 hosts).</summary>
    private static IEnumerable<HostField> HostsOf(EgressObject subject, RuleContext context)
    {
        switch (subject)
        {
            case ServiceEntry se:
                for (var i = 0; i < se.Spec.Hosts.Count; i++)
                {
                    yield return new HostField(se.Spec.Hosts[i], null, i, -1);
                }

                break;
            case VirtualService vs:
                for (var i = 0; i < vs.Spec.Hosts.Count; i++)
                {
                    yield return new HostField(vs.Spec.Hosts[i], null, i, -1);
                }

                // the destinations the other rules read too, each path formatted only for a finding
                foreach (var d in context.DestinationsOf(vs))
                {
                    yield return new HostField(d.Destination.Host, null, 0, -1, d);
                }

                break;
            case DestinationRule dr:
                yield return new HostField(dr.Spec.Host, "spec", 0, -1);
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
                        yield return new HostField(server.Hosts[i] is { } h ? NamespacedHost.DnsName(h) : null, null, s, i);
                    }
                }

                break;
            default:
                break;
        }
    }

    /// <summary>A host and where it is: <c>{Prefix}.host</c> when a prefix is given (a route destination's path, made
    /// only here), else <c>spec.hosts[I]</c>, or <c>spec.servers[I].hosts[J]</c> when <paramref name="J"/> is not negative.</summary>
    private readonly record struct HostField(string? Host, string? Prefix, int I, int J, DestinationRef? Destination = null)
    {
        public string Describe() => (Prefix ?? Destination?.Path) is { } prefix ? $"{prefix}.host" : J < 0 ? $"spec.hosts[{I}]" : $"spec.servers[{I}].hosts[{J}]";
    }
}
