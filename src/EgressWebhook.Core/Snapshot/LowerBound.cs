namespace EgressWebhook.Core.Snapshot;

/// <summary>Binary search in a sorted list: the first item not before a key (a namespace's range of a kind's
/// key-ordered list, a suffix's range of reversed host names).</summary>
internal static class LowerBound
{
    /// <summary>The index of the first item of <paramref name="sorted"/> for which <paramref name="isBefore"/> is false,
    /// or the list's length when there is none; <paramref name="isBefore"/> holds for a prefix of the list only.</summary>
    public static int Of<T, TKey>(IReadOnlyList<T> sorted, TKey key, Func<T, TKey, bool> isBefore)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (isBefore(sorted[mid], key))
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
