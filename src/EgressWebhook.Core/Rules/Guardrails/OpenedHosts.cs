using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>One external host an object opens: a ServiceEntry host and port, a VirtualService host or route
/// destination, a DestinationRule host.</summary>
/// <param name="Host">Resolved against the object's namespace.</param>
/// <param name="Port">The port number, when the object names one.</param>
/// <param name="Protocol">The port's protocol, when the object names one.</param>
/// <param name="Path">The field that opens it.</param>
internal sealed record OpenedHost(string Host, int? Port, string? Protocol, string Path)
{
    /// <summary><c>host:port</c>, or the host alone.</summary>
    public string HostPort => Port is { } p ? $"{Host}:{p}" : Host;
}

/// <summary>The external (not cluster-local) hosts an object opens, the one definition the guardrails, the audit line's
/// host delta and <c>kubectl-egress hosts</c> share.</summary>
internal static class OpenedHosts
{
    /// <summary>The external hosts of <paramref name="obj"/>, in field order (each host and port once per field).</summary>
    public static IEnumerable<OpenedHost> Of(EgressObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        switch (obj)
        {
            case ServiceEntry se:
                for (var i = 0; i < se.Spec.Hosts.Count; i++)
                {
                    var host = HostName.Resolve(se.Spec.Hosts[i], se.Namespace);
                    if (HostName.IsClusterLocal(host))
                    {
                        continue;
                    }

                    if (se.Spec.Ports.Count == 0)
                    {
                        yield return new OpenedHost(host, null, null, $"spec.hosts[{i}]");
                    }

                    foreach (var port in se.Spec.Ports)
                    {
                        yield return new OpenedHost(host, port.Number, port.Protocol, $"spec.hosts[{i}]");
                    }
                }

                break;
            case VirtualService vs:
                for (var i = 0; i < vs.Spec.Hosts.Count; i++)
                {
                    var host = HostName.Resolve(vs.Spec.Hosts[i], vs.Namespace);
                    if (!HostName.IsClusterLocal(host))
                    {
                        yield return new OpenedHost(host, null, null, $"spec.hosts[{i}]");
                    }
                }

                foreach (var d in RouteDestinations.Of(vs))
                {
                    if (!HostName.IsClusterLocal(d.Host))
                    {
                        yield return new OpenedHost(d.Host, d.Destination.Port?.Number, null, d.Path + ".host");
                    }
                }

                break;
            case DestinationRule dr:
                var drHost = HostName.Resolve(dr.Spec.Host, dr.Namespace);
                if (drHost.Length > 0 && !HostName.IsClusterLocal(drHost))
                {
                    yield return new OpenedHost(drHost, null, null, "spec.host");
                }

                break;
        }
    }

    /// <summary>The <c>host:port</c> entries <paramref name="after"/> opens that <paramref name="before"/> did not
    /// (added) and the other way round (removed), sorted; either object may be null (create, delete).</summary>
    public static (IReadOnlyList<string> Added, IReadOnlyList<string> Removed) Delta(EgressObject? before, EgressObject? after)
    {
        var old = before is null ? new HashSet<string>(StringComparer.Ordinal) : HostPorts(before);
        var now = after is null ? new HashSet<string>(StringComparer.Ordinal) : HostPorts(after);
        return (Missing(now, old), Missing(old, now));
    }

    /// <summary>The entries of <paramref name="from"/> not in <paramref name="other"/>, sorted (ordinal; each is distinct)
    /// as far as they are read.</summary>
    private static SortedOnRead Missing(HashSet<string> from, HashSet<string> other)
    {
        var result = new List<string>(other.Count == 0 ? from.Count : 0);
        foreach (var h in from)
        {
            if (!other.Contains(h))
            {
                result.Add(h);
            }
        }

        return new SortedOnRead(result);
    }

    /// <summary>The <see cref="OpenedHost.HostPort"/> of each of <see cref="Of"/>, without the field paths (an object may
    /// open 150,000 hosts): a ServiceEntry's hosts and ports are walked directly, other kinds through <see cref="Of"/>.</summary>
    private static HashSet<string> HostPorts(EgressObject obj)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (obj is VirtualService vs)
        {
            VirtualServiceHostPorts(vs, result);
            return result;
        }

        if (obj is not ServiceEntry se)
        {
            foreach (var h in Of(obj))
            {
                result.Add(h.HostPort);
            }

            return result;
        }

        // ":443" per port, made at the first external host (as Of reads the ports only then)
        string[]? numbers = null;
        foreach (var written in se.Spec.Hosts)
        {
            var host = HostName.Resolve(written, se.Namespace);
            if (HostName.IsClusterLocal(host))
            {
                continue;
            }

            numbers ??= [.. se.Spec.Ports.Select(p => $":{p.Number}")];

            if (numbers.Length == 0)
            {
                result.Add(host);
            }

            foreach (var number in numbers)
            {
                result.Add(string.Concat(host, number));
            }
        }

        return result;
    }

    /// <summary>What <see cref="Of"/> opens for <paramref name="vs"/>, as <see cref="OpenedHost.HostPort"/> formats them, walked directly:
    /// no destination list, path or record per destination (a VirtualService may have 50,000 routes).</summary>
    private static void VirtualServiceHostPorts(VirtualService vs, HashSet<string> into)
    {
        for (var i = 0; i < vs.Spec.Hosts.Count; i++)
        {
            var host = HostName.Resolve(vs.Spec.Hosts[i], vs.Namespace);
            if (!HostName.IsClusterLocal(host))
            {
                into.Add(host);
            }
        }

        // the destinations RouteDestinations.Of lists: route, mirror and mirrors of http, route of tls and tcp
        foreach (var rule in vs.Spec.Http)
        {
            foreach (var r in rule.Route)
            {
                Add(r.Destination);
            }

            Add(rule.Mirror);
            foreach (var m in rule.Mirrors)
            {
                Add(m.Destination);
            }
        }

        foreach (var rule in vs.Spec.Tls)
        {
            foreach (var r in rule.Route)
            {
                Add(r.Destination);
            }
        }

        foreach (var rule in vs.Spec.Tcp)
        {
            foreach (var r in rule.Route)
            {
                Add(r.Destination);
            }
        }

        void Add(Destination? d)
        {
            if (d is null || d.Host.Length == 0)
            {
                return;
            }

            var host = HostName.Resolve(d.Host, vs.Namespace);
            if (!HostName.IsClusterLocal(host))
            {
                into.Add(d.Port?.Number is { } p ? $"{host}:{p}" : host);
            }
        }
    }
}
