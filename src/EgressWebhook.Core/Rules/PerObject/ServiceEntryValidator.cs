using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using FluentValidation;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>Single-object checks of a ServiceEntry: EGW201 (CIDR needs NONE/STATIC), EGW202 (DNS cannot resolve a
/// wildcard host), EGW203 (endpoints inconsistent with the resolution or the ports), EGW204 (several hosts on a
/// port that cannot tell them apart), EGW205 (invalid ports).</summary>
/// <remarks>These are the parts of Istio's own ServiceEntry validation that the egress reasoning depends on.
/// Istio's defaults apply: an unset resolution is NONE. Protocols compare case-insensitively (<c>tcp</c> is TCP);
/// an unset protocol is allowed (Istio sniffs it), an unknown one is EGW205. Unknown resolutions (a value Istio adds
/// later) are treated as "not NONE, not STATIC, not DNS" and never crash.</remarks>
internal sealed class ServiceEntryValidator : AbstractValidator<ServiceEntry>
{
    private const int MaxPort = 65535;

    public ServiceEntryValidator()
    {
        RuleFor(se => se.Spec).Custom((spec, context) =>
        {
            CheckCidr(spec, context);
            CheckDnsWildcard(spec, context);
            CheckEndpoints(spec, context);
            CheckMultipleHosts(spec, context);
            CheckPorts(spec, context);
        });
    }

    /// <summary>EGW201: a CIDR range cannot be resolved by DNS; Istio accepts it only with NONE or STATIC.</summary>
    private static void CheckCidr(ServiceEntrySpec spec, ValidationContext<ServiceEntry> context)
    {
        var resolution = spec.EffectiveResolution;
        if (resolution is Resolutions.None or Resolutions.Static)
        {
            return;
        }

        var index = IndexOf(spec.Addresses, a => a is not null && IpAddresses.IsCidr(a));
        if (index >= 0)
        {
            context.AddFailure(Failures.Error(RuleIds.CidrNeedsNoneOrStatic, "Spec.Resolution",
                $"resolution {resolution} cannot be used with CIDR address {spec.Addresses[index]} (addresses[{index}]); set resolution NONE or STATIC"));
        }
    }

    /// <summary>EGW202: with DNS resolution and no endpoints the proxy resolves the host itself, and <c>*.x</c> has
    /// no DNS record (Istio: "hosts must be FQDN if no endpoints are provided").</summary>
    private static void CheckDnsWildcard(ServiceEntrySpec spec, ValidationContext<ServiceEntry> context)
    {
        var resolution = spec.EffectiveResolution;
        if (resolution is not (Resolutions.Dns or Resolutions.DnsRoundRobin) || spec.Endpoints.Count > 0)
        {
            return;
        }

        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            if (spec.Hosts[i] is { } host && HostName.IsWildcard(host))
            {
                if (Failures.Admits(context, RuleIds.DnsResolutionWildcardHost, "Spec.Hosts"))
                {
                    context.AddFailure(Failures.Error(RuleIds.DnsResolutionWildcardHost, $"Spec.Hosts[{i}]",
                        $"{resolution} cannot resolve wildcard host {host} (no endpoints); use resolution NONE or add endpoints"));
                }
            }
        }
    }

    /// <summary>EGW203: NONE ignores endpoints; STATIC endpoints must be IPs or unix sockets; endpoint port
    /// names must be port names of the entry (else the endpoint port is never used).</summary>
    private static void CheckEndpoints(ServiceEntrySpec spec, ValidationContext<ServiceEntry> context)
    {
        var resolution = spec.EffectiveResolution;
        if (resolution == Resolutions.None)
        {
            if (spec.Endpoints.Count > 0)
            {
                var unset = string.IsNullOrEmpty(spec.Resolution) ? " (unset)" : "";
                context.AddFailure(Failures.Error(RuleIds.EndpointsInconsistent, "Spec.Endpoints",
                    $"resolution NONE{unset} cannot use its {spec.Endpoints.Count} endpoint(s); set resolution STATIC or DNS, or remove endpoints"));
            }

            return;
        }

        var portNames = spec.Ports.Select(p => p?.Name ?? "").Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal);
        string? known = null;
        for (var i = 0; i < spec.Endpoints.Count; i++)
        {
            // a "~" list item decodes to null; it has nothing to check
            if (spec.Endpoints[i] is not { } endpoint)
            {
                continue;
            }

            var address = endpoint.Address ?? "";
            var unix = IpAddresses.IsUnixSocket(address);
            if (resolution == Resolutions.Static && !unix && !IpAddresses.IsIp(address))
            {
                var shown = address.Length == 0 ? "(empty)" : address;
                if (Failures.Admits(context, RuleIds.EndpointsInconsistent, "Spec.Endpoints"))
                {
                    context.AddFailure(Failures.Error(RuleIds.EndpointsInconsistent, $"Spec.Endpoints[{i}].Address",
                        $"STATIC endpoint address {shown} is not an IP or unix:// socket; use an IP address or resolution DNS"));
                }
            }

            if (unix)
            {
                continue;
            }

            // one name (the usual case) needs no ordering: an entry may list 100,000 endpoints
            foreach (var name in endpoint.Ports.Count == 1 ? endpoint.Ports.Keys : endpoint.Ports.Keys.Order(StringComparer.Ordinal))
            {
                if (!portNames.Contains(name))
                {
                    known ??= portNames.Count == 0 ? "none named" : Failures.List(portNames.Order(StringComparer.Ordinal));
                    if (Failures.Admits(context, RuleIds.EndpointsInconsistent, "Spec.Endpoints"))
                    {
                        context.AddFailure(Failures.Error(RuleIds.EndpointsInconsistent, $"Spec.Endpoints[{i}].Ports[{name}]",
                            $"endpoint port {name} is not a port name of the ServiceEntry (ports: {known}); rename it to a port's name"));
                    }
                }
            }
        }
    }

    /// <summary>EGW204: with several hosts and a resolution other than NONE the proxy must tell the hosts apart by
    /// Host header (HTTP family) or SNI (TLS family); on any other port it cannot.</summary>
    private static void CheckMultipleHosts(ServiceEntrySpec spec, ValidationContext<ServiceEntry> context)
    {
        if (spec.Hosts.Count < 2 || spec.EffectiveResolution == Resolutions.None)
        {
            return;
        }

        for (var i = 0; i < spec.Ports.Count; i++)
        {
            if (spec.Ports[i] is not { } port)
            {
                continue;
            }

            if (!Protocols.IsHttp(port.Protocol) && !Protocols.IsTls(port.Protocol))
            {
                var protocol = string.IsNullOrEmpty(port.Protocol) ? "unset" : port.Protocol;
                if (Failures.Admits(context, RuleIds.MultiHostNeedsHttpOrTls, "Spec.Ports"))
                {
                    context.AddFailure(Failures.Error(RuleIds.MultiHostNeedsHttpOrTls, $"Spec.Ports[{i}].Protocol",
                        $"{spec.Hosts.Count} hosts with resolution {spec.EffectiveResolution} on port {port.Number} (protocol {protocol}), " +
                        "which is neither HTTP nor TLS; use one host per ServiceEntry"));
                }
            }
        }
    }

    /// <summary>EGW205: each port number and name once, numbers (and target ports) in range, protocols Istio knows.</summary>
    private static void CheckPorts(ServiceEntrySpec spec, ValidationContext<ServiceEntry> context)
    {
        var numbers = new Dictionary<int, int>();
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            if (spec.Ports[i] is not { } port)
            {
                continue;
            }

            if (port.Number is < 1 or > MaxPort)
            {
                if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Ports"))
                {
                    context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Ports[{i}].Number",
                        $"port number {port.Number} is outside 1..{MaxPort}; use a valid port number"));
                }
            }
            else if (!numbers.TryAdd(port.Number, i))
            {
                if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Ports"))
                {
                    context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Ports[{i}].Number",
                        $"port number {port.Number} is declared twice (ports[{numbers[port.Number]}] and ports[{i}]); remove or renumber one"));
                }
            }

            // targetPort 0 is "unset" in Istio's API
            if (port.TargetPort is { } target && target != 0 && target is < 1 or > MaxPort)
            {
                if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Ports"))
                {
                    context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Ports[{i}].TargetPort",
                        $"targetPort {target} of port {port.Number} is outside 1..{MaxPort}; use a valid port number"));
                }
            }

            if (!string.IsNullOrEmpty(port.Name) && !names.TryAdd(port.Name, i))
            {
                if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Ports"))
                {
                    context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Ports[{i}].Name",
                        $"port name {port.Name} is used by ports[{names[port.Name]}] and ports[{i}]; give each port a unique name"));
                }
            }

            // an unset protocol is allowed: Istio sniffs it
            if (!string.IsNullOrEmpty(port.Protocol) && !Protocols.IsKnown(port.Protocol))
            {
                if (Failures.Admits(context, RuleIds.InvalidPorts, "Spec.Ports"))
                {
                    context.AddFailure(Failures.Error(RuleIds.InvalidPorts, $"Spec.Ports[{i}].Protocol",
                        $"protocol {port.Protocol} of port {port.Number} is not an Istio protocol; use e.g. HTTP, HTTPS, TLS, TCP, GRPC"));
                }
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> items, Func<string, bool> predicate)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (predicate(items[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
