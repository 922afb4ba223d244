namespace EgressWebhook.Core.Istio;

/// <summary>Istio visibility (<c>exportTo</c>) semantics.</summary>
internal static class ExportTo
{
    /// <summary>Whether an object in <paramref name="objectNamespace"/> with <paramref name="exportTo"/> is visible
    /// to <paramref name="clientNamespace"/>. Empty means <paramref name="meshDefault"/> (itself empty = <c>*</c>);
    /// <c>*</c> all, <c>.</c> own namespace, <c>~</c> none, else the namespaces listed.</summary>
    public static bool IsVisible(IReadOnlyList<string> exportTo, string objectNamespace, string clientNamespace, IReadOnlyList<string> meshDefault)
    {
        var list = exportTo.Count > 0 ? exportTo : meshDefault;
        if (list.Count == 0)
        {
            return true;
        }

        foreach (var entry in list)
        {
            if (entry == "*" || entry == clientNamespace || (entry == "." && objectNamespace == clientNamespace))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether two export scopes share at least one namespace (for duplicate detection).</summary>
    public static bool Overlap(IReadOnlyList<string> a, string aNamespace, IReadOnlyList<string> b, string bNamespace, IReadOnlyList<string> meshDefault) =>
        ScopeOf(a, aNamespace, meshDefault).Overlaps(ScopeOf(b, bNamespace, meshDefault));

    /// <summary>The namespaces an exportTo list exports to, expanded once: a rule comparing one object with many
    /// others expands its own list once rather than per comparison (a list may hold thousands of entries).</summary>
    public static ExportScope ScopeOf(IReadOnlyList<string> exportTo, string ownNamespace, IReadOnlyList<string> meshDefault) =>
        new(Expand(exportTo.Count > 0 ? exportTo : meshDefault, ownNamespace));

    /// <summary>The namespaces a list exports to; null means all.</summary>
    private static HashSet<string>? Expand(IReadOnlyList<string> list, string ownNamespace)
    {
        if (list.Count == 0 || list.Contains("*"))
        {
            return null;
        }

        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in list)
        {
            if (entry == ".")
            {
                set.Add(ownNamespace);
            }
            else if (entry != "~")
            {
                set.Add(entry);
            }
        }

        return set;
    }

    /// <summary>A Service's <c>networking.istio.io/exportTo</c> annotation as a list.</summary>
    public static IReadOnlyList<string> OfService(Model.Service service) =>
        service.Metadata.Annotations.TryGetValue(Model.Service.ExportToAnnotation, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
}

/// <summary>An expanded export scope (<see cref="ExportTo.ScopeOf"/>): every namespace, or a set of them.</summary>
internal readonly struct ExportScope
{
    private readonly HashSet<string>? _namespaces;

    internal ExportScope(HashSet<string>? namespaces) => _namespaces = namespaces;

    /// <summary>Whether the two scopes share at least one namespace.</summary>
    public bool Overlaps(ExportScope other)
    {
        if (_namespaces is null || other._namespaces is null)
        {
            return (_namespaces ?? other._namespaces) is not { Count: 0 };
        }

        var (small, large) = _namespaces.Count <= other._namespaces.Count ? (_namespaces, other._namespaces) : (other._namespaces, _namespaces);
        foreach (var ns in small)
        {
            if (large.Contains(ns))
            {
                return true;
            }
        }

        return false;
    }
}
