namespace EgressWebhook.Core.Model;

/// <summary>Normalises decoded collections: an absent or null list is empty, and null items (<c>hosts: [~]</c>,
/// <c>labels: {a: ~}</c>) are dropped, so rules never meet a null. Allocates only when a null is present.</summary>
internal static class NullSafe
{
    public static IReadOnlyList<T> List<T>(IReadOnlyList<T>? list)
        where T : class
    {
        if (list is null)
        {
            return [];
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is null)
            {
                return list.Where(x => x is not null).ToArray();
            }
        }

        return list;
    }

    public static IReadOnlyDictionary<string, TValue> Map<TValue>(IReadOnlyDictionary<string, TValue>? map, IReadOnlyDictionary<string, TValue> empty)
    {
        if (map is null)
        {
            return empty;
        }

        foreach (var value in map.Values)
        {
            if (value is null)
            {
                return map.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
            }
        }

        return map;
    }
}
