using System.Text.RegularExpressions;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Policy;

/// <summary>One thing wrong with a policy: the field and a one-line reason with the fix.</summary>
/// <param name="Path">Field path, e.g. <c>spec.allow[0].hosts[1]</c>.</param>
/// <param name="Message">The headline.</param>
public sealed record PolicyProblem(string Path, string Message);

/// <summary>Checks that an EgressPolicy can be enforced: host globs, selector, action, references, and parts that
/// contradict each other (EGW308). The CRD's schema and CEL rules catch the simple cases at the API server; this is the
/// same check for the CLI and for clusters without the schema.</summary>
/// <remarks>A glob is an exact DNS name or <c>*.</c> followed by one (Istio's host syntax, lower case), or <c>*</c>: a
/// <c>*</c> anywhere else matches nothing in Istio and would silently allow nothing.</remarks>
public static partial class PolicyValidator
{
    [GeneratedRegex(@"^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$", RegexOptions.CultureInvariant)]
    private static partial Regex GlobPattern();

    /// <summary>Whether <paramref name="glob"/> is a host or a <c>*.</c> glob.</summary>
    public static bool IsValidGlob(string glob) => glob.Length is > 0 and <= 255 && GlobPattern().IsMatch(glob);

    /// <summary>The structural problems of <paramref name="policy"/>, in field order; empty when it can be enforced.</summary>
    public static IEnumerable<PolicyProblem> Problems(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var spec = policy.Spec;
        if (PolicyActions.Parse(spec.Action) is null)
        {
            yield return new("spec.action", $"action \"{Short(spec.Action)}\" is not Deny, Warn or Audit; use one of them");
        }

        if (spec.NamespaceSelector is { } selector)
        {
            for (var i = 0; i < selector.MatchExpressions.Count; i++)
            {
                var e = selector.MatchExpressions[i];
                var path = $"spec.namespaceSelector.matchExpressions[{i}]";
                if (string.IsNullOrEmpty(e.Key))
                {
                    yield return new($"{path}.key", "the expression has no key; name a namespace label");
                }

                switch (e.Operator)
                {
                    case "In" or "NotIn" when e.Values.Count == 0:
                        yield return new($"{path}.values", $"operator {e.Operator} without values selects nothing useful; list values");
                        break;
                    case "Exists" or "DoesNotExist" when e.Values.Count > 0:
                        yield return new($"{path}.values", $"operator {e.Operator} takes no values; remove them");
                        break;
                    case "In" or "NotIn" or "Exists" or "DoesNotExist":
                        break;
                    default:
                        yield return new($"{path}.operator", $"operator \"{Short(e.Operator)}\" is not In, NotIn, Exists or DoesNotExist; use one of them");
                        break;
                }
            }
        }

        if (spec.Allow is { } allow)
        {
            for (var i = 0; i < allow.Count; i++)
            {
                var rule = allow[i];
                if (rule.Hosts.Count == 0)
                {
                    yield return new($"spec.allow[{i}].hosts", "an allow entry without hosts allows nothing; list hosts or remove it");
                }

                for (var j = 0; j < rule.Hosts.Count; j++)
                {
                    if (!IsValidGlob(rule.Hosts[j]))
                    {
                        yield return new($"spec.allow[{i}].hosts[{j}]", $"\"{Short(rule.Hosts[j])}\" is not a host or a *. glob; write api.example.com or *.example.com");
                    }
                }

                for (var j = 0; j < rule.Ports.Count; j++)
                {
                    if (rule.Ports[j] is < 1 or > 65535)
                    {
                        yield return new($"spec.allow[{i}].ports[{j}]", $"port {rule.Ports[j]} is outside 1..65535; fix the port");
                    }
                }

                for (var j = 0; j < rule.Protocols.Count; j++)
                {
                    if (!Protocols.IsKnown(rule.Protocols[j]?.ToUpperInvariant()))
                    {
                        yield return new($"spec.allow[{i}].protocols[{j}]", $"\"{Short(rule.Protocols[j])}\" is not an Istio protocol; use e.g. TLS, HTTPS, HTTP, TCP");
                    }
                }
            }
        }

        if (spec.RequiredGateway is { } gateway && PolicySet.SplitRef(gateway) is null)
        {
            yield return new("spec.requiredGateway", $"\"{Short(gateway)}\" is not namespace/name of the egress gateway Service; e.g. istio-system/istio-egressgateway");
        }

        if (spec.RequiredWaypoint is { } waypoint)
        {
            if (spec.RequiredGateway is not null)
            {
                yield return new("spec.requiredWaypoint", "requiredGateway and requiredWaypoint are both set; traffic leaves by one path: keep one");
            }

            if (!IsNamespaceName(waypoint.Namespace ?? ""))
            {
                yield return new("spec.requiredWaypoint.namespace", $"\"{Short(waypoint.Namespace)}\" is not a namespace name; name the waypoint's namespace");
            }

            if (!IsObjectName(waypoint.Name ?? ""))
            {
                yield return new("spec.requiredWaypoint.name", $"\"{Short(waypoint.Name)}\" is not a Gateway name; name the waypoint, e.g. egress-waypoint");
            }
        }

        if (spec.Wildcards is { } wildcards)
        {
            if (wildcards.Allowed.Count > 0 && !wildcards.Forbid)
            {
                yield return new("spec.wildcards.allowed", "wildcards are listed as allowed but not forbidden; set forbid: true or remove the list");
            }

            for (var i = 0; i < wildcards.Allowed.Count; i++)
            {
                var w = wildcards.Allowed[i];
                if (!IsValidGlob(w) || w[0] != '*')
                {
                    yield return new($"spec.wildcards.allowed[{i}]", $"\"{Short(w)}\" is not a wildcard host; write *.example.com");
                }
                else if (spec.Allow is { } rules && !rules.Any(r => r.Hosts.Any(g => PolicySet.Covers(g, w))))
                {
                    yield return new($"spec.wildcards.allowed[{i}]", $"{Short(w)} is outside every spec.allow host, so it can never be opened; allow it or remove it");
                }
            }
        }

        if (spec.ExportTo is { } exportTo)
        {
            if (exportTo.Allowed.Count == 0)
            {
                yield return new("spec.exportTo.allowed", "no exportTo value is allowed, so no object could be written; list self, * or namespaces");
            }

            for (var i = 0; i < exportTo.Allowed.Count; i++)
            {
                var e = exportTo.Allowed[i];
                if (e is not ("self" or "." or "*" or "~") && !IsNamespaceName(e))
                {
                    yield return new($"spec.exportTo.allowed[{i}]", $"\"{Short(e)}\" is not self, * or a namespace name; fix the entry");
                }
            }
        }

        if (spec.Exceptions is { } exceptions)
        {
            for (var i = 0; i < exceptions.ServiceAccounts.Count; i++)
            {
                if (PolicySet.SplitRef(exceptions.ServiceAccounts[i]) is null)
                {
                    yield return new($"spec.exceptions.serviceAccounts[{i}]", $"\"{Short(exceptions.ServiceAccounts[i])}\" is not namespace/name; e.g. platform/break-glass");
                }
            }
        }

        if (spec.Allow is { Count: 0 } && spec.RequiredGateway is not null)
        {
            yield return new("spec.requiredGateway", "allow is empty (no external host), so no traffic can use the required gateway; allow hosts or drop it");
        }

        if (spec.Allow is { Count: 0 } && spec.RequiredWaypoint is not null)
        {
            yield return new("spec.requiredWaypoint", "allow is empty (no external host), so no traffic can use the required waypoint; allow hosts or drop it");
        }
    }

    private static bool IsNamespaceName(string value) =>
        value.Length is > 0 and <= 63 && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && value[0] != '-' && value[^1] != '-';

    /// <summary>A DNS-1123 subdomain (what Kubernetes accepts as a Gateway's name).</summary>
    private static bool IsObjectName(string value) =>
        value.Length is > 0 and <= 253 && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.') &&
        char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1]);

    private static string Short(string? value) => value is null ? "" : value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 39), "…");
}
