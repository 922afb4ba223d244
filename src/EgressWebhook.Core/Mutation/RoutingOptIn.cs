using System.Text.RegularExpressions;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Mutation;

/// <summary>Whether a ServiceEntry asks for egress-gateway routing, and through which gateway.</summary>
/// <param name="Source">Where the opt-in came from; <see cref="OptInSource.None"/> when not opted in or opted out.</param>
/// <param name="Gateway">The gateway Service when opted in with a valid value.</param>
/// <param name="Invalid">When the value found is not <c>&lt;namespace&gt;/&lt;service&gt;</c>: the value, for the warning.</param>
public sealed partial record RoutingOptIn(OptInSource Source, GatewayServiceRef? Gateway, string? Invalid)
{
    private static readonly RoutingOptIn NotOptedIn = new(OptInSource.None, null, null);

    public bool IsOptedIn => Gateway is not null;

    /// <summary>Precedence: the opt-out annotation, then the entry's annotation, the namespace label, the cluster default.</summary>
    public static RoutingOptIn Resolve(ServiceEntry entry, SnapshotView view, MutationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(policy);
        var annotations = entry.Metadata.Annotations;
        if (annotations.TryGetValue(RoutingAnnotations.Routing, out var routing) &&
            string.Equals(routing, RoutingAnnotations.Disabled, StringComparison.OrdinalIgnoreCase))
        {
            return NotOptedIn;
        }

        if (annotations.TryGetValue(RoutingAnnotations.Gateway, out var value))
        {
            return Of(OptInSource.Annotation, value, '/');
        }

        if (view.Find(new ObjectKey(ResourceKind.Namespace, "", entry.Namespace)) is { } ns &&
            ns.Metadata.Labels.TryGetValue(RoutingAnnotations.NamespaceLabel, out var label))
        {
            return Of(OptInSource.NamespaceLabel, label, '.');
        }

        return string.IsNullOrWhiteSpace(policy.DefaultGateway) ? NotOptedIn : Of(OptInSource.ClusterDefault, policy.DefaultGateway, '/');
    }

    /// <summary>Parses <c>ns/svc</c> (or <c>ns.svc</c> for the label); both parts must be DNS labels.</summary>
    public static GatewayServiceRef? Parse(string value, char separator)
    {
        var i = value.IndexOf(separator, StringComparison.Ordinal);
        if (i <= 0 || i == value.Length - 1)
        {
            return null;
        }

        var ns = value[..i];
        var name = value[(i + 1)..];
        return DnsLabel().IsMatch(ns) && DnsLabel().IsMatch(name) ? new GatewayServiceRef(ns, name) : null;
    }

    private static RoutingOptIn Of(OptInSource source, string value, char separator) =>
        Parse(value.Trim(), separator) is { } gw ? new RoutingOptIn(source, gw, null) : new RoutingOptIn(source, null, value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
