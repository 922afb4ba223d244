using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>Gateway references in VirtualServices: <c>mesh</c>, <c>name</c> (VirtualService's namespace) or <c>ns/name</c>.</summary>
internal static class GatewayRefs
{
    public const string Mesh = "mesh";

    /// <summary>A reference as <c>ns/name</c>, or <c>mesh</c>. Also accepts the legacy <c>name.ns.svc.cluster.local</c> form.</summary>
    public static string Resolve(string reference, string vsNamespace)
    {
        if (reference == Mesh)
        {
            return Mesh;
        }

        if (reference.Contains('/', StringComparison.Ordinal))
        {
            return reference;
        }

        var dot = reference.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            // name.ns[.svc.cluster.local]
            var rest = reference[(dot + 1)..];
            var nsEnd = rest.IndexOf('.', StringComparison.Ordinal);
            return $"{(nsEnd < 0 ? rest : rest[..nsEnd])}/{reference[..dot]}";
        }

        return $"{vsNamespace}/{reference}";
    }

    /// <summary>Whether <paramref name="reference"/>, written in a VirtualService of <paramref name="vsNamespace"/>,
    /// resolves to <paramref name="resolved"/> (<c>ns/name</c> or <c>mesh</c>): <see cref="Resolve"/> without the string.</summary>
    public static bool RefersTo(string reference, string vsNamespace, string resolved)
    {
        if (reference == Mesh || reference.Contains('/', StringComparison.Ordinal) || reference.Contains('.', StringComparison.Ordinal))
        {
            return Resolve(reference, vsNamespace) == resolved;
        }

        // the common short form: name in the VirtualService's namespace
        return resolved.Length == vsNamespace.Length + 1 + reference.Length &&
               resolved.StartsWith(vsNamespace, StringComparison.Ordinal) && resolved[vsNamespace.Length] == '/' &&
               resolved.EndsWith(reference, StringComparison.Ordinal);
    }

    /// <summary>The (resolved) gateways a VirtualService is bound to: <c>spec.gateways</c>, or <c>[mesh]</c> when empty.</summary>
    public static IReadOnlyList<string> Of(VirtualService vs)
    {
        if (vs.Spec.Gateways.Count == 0)
        {
            return [Mesh];
        }

        var result = new string[vs.Spec.Gateways.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Resolve(vs.Spec.Gateways[i], vs.Namespace);
        }

        return result;
    }

    /// <summary>The gateways one rule applies to: its match-level lists when any match sets them, else the VirtualService's.</summary>
    public static IReadOnlyList<string> OfRule(VirtualService vs, IEnumerable<IReadOnlyList<string>> matchGateways) =>
        OfRule(vs, matchGateways, Of(vs));

    /// <summary><see cref="OfRule(VirtualService, IEnumerable{IReadOnlyList{string}}, IReadOnlyList{string})"/> for the
    /// matches of one rule, <paramref name="gatewaysOf"/> reading their <c>gateways</c>: most rules set none, and get the
    /// VirtualService's list without an iterator over their matches.</summary>
    internal static IReadOnlyList<string> OfRule<TMatch>(VirtualService vs, IReadOnlyList<TMatch> matches, Func<TMatch, IReadOnlyList<string>> gatewaysOf,
        IReadOnlyList<string> specGateways)
    {
        if (matches.Count == 1 && gatewaysOf(matches[0]) is { Count: > 0 and <= RefList.ScanAtMost } only)
        {
            // the usual match-level list: one match, a few references; resolved into an array, without the set and the
            // iterator of the general case (the same references in the same order: each once, first occurrence kept)
            var resolved = new string[only.Count];
            var count = 0;
            for (var i = 0; i < only.Count; i++)
            {
                var r = Resolve(only[i], vs.Namespace);
                if (Array.IndexOf(resolved, r, 0, count) < 0)
                {
                    resolved[count++] = r;
                }
            }

            return count == resolved.Length ? resolved : resolved[..count];
        }

        for (var i = 0; i < matches.Count; i++)
        {
            if (gatewaysOf(matches[i]).Count > 0)
            {
                return OfRule(vs, matches.Select(gatewaysOf), specGateways);
            }
        }

        return specGateways;
    }

    /// <summary><see cref="OfRule(VirtualService, IEnumerable{IReadOnlyList{string}})"/> with the VirtualService's own
    /// gateways (<see cref="Of"/>) at hand, resolved once for all its rules.</summary>
    internal static IReadOnlyList<string> OfRule(VirtualService vs, IEnumerable<IReadOnlyList<string>> matchGateways, IReadOnlyList<string> specGateways)
    {
        List<string>? result = null;
        HashSet<string>? seen = null;
        var anyUnscoped = false;
        var any = false;
        foreach (var list in matchGateways)
        {
            any = true;
            if (list.Count == 0)
            {
                anyUnscoped = true;
                continue;
            }

            result ??= [];
            seen ??= new HashSet<string>(StringComparer.Ordinal);
            foreach (var g in list)
            {
                var resolved = Resolve(g, vs.Namespace);
                if (seen.Add(resolved))
                {
                    result.Add(resolved);
                }
            }
        }

        if (!any || anyUnscoped || result is null)
        {
            if (result is null)
            {
                return specGateways;
            }

            foreach (var g in specGateways)
            {
                if (seen!.Add(g))
                {
                    result.Add(g);
                }
            }
        }

        return result;
    }

    public static (string Namespace, string Name) Split(string resolved)
    {
        var slash = resolved.IndexOf('/', StringComparison.Ordinal);
        return (resolved[..slash], resolved[(slash + 1)..]);
    }
}
