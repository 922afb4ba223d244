namespace EgressWebhook.Core.Mutation;

/// <summary>RFC 6901 JSON Pointer helpers.</summary>
internal static class JsonPointer
{
    /// <summary>Escapes one reference token: <c>~</c> → <c>~0</c>, <c>/</c> → <c>~1</c> (in that order).</summary>
    public static string Escape(string token) =>
        token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>Reverses <see cref="Escape"/>.</summary>
    public static string Unescape(string token) =>
        token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
}
