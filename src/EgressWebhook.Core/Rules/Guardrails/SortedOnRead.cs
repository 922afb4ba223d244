using System.Collections;

namespace EgressWebhook.Core.Rules.Guardrails;

/// <summary>Distinct strings read in ordinal order, sorted only as far as they are read: the audit line lists the first
/// few KB of an object's opened hosts and counts the rest, and an object may open 150,000 of them.</summary>
/// <remarks>Enumerating heapifies a copy (linear) and takes the smallest one at a time (a logarithm each); the indexer
/// sorts once. Either way the order is <see cref="StringComparer.Ordinal"/>'s, as a sorted list's would be. Safe to read
/// from several threads: the items are never changed, the sorted copy is published whole.</remarks>
internal sealed class SortedOnRead : IReadOnlyList<string>
{
    /// <summary>Up to this many items, a read sorts them all at once.</summary>
    private const int SortAtMost = 64;

    private readonly List<string> _items;
    private string[]? _sorted;

    /// <param name="items">Distinct strings, in any order; the list is kept, not copied.</param>
    public SortedOnRead(List<string> items) => _items = items;

    public int Count => _items.Count;

    public string this[int index] => Sorted()[index];

    public IEnumerator<string> GetEnumerator() =>
        _sorted is not null || _items.Count <= SortAtMost ? ((IEnumerable<string>)Sorted()).GetEnumerator() : Smallest();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private string[] Sorted()
    {
        if (_sorted is { } sorted)
        {
            return sorted;
        }

        var copy = _items.ToArray();
        Array.Sort(copy, StringComparer.Ordinal);
        return _sorted = copy;
    }

    private IEnumerator<string> Smallest()
    {
        var heap = new PriorityQueue<string, string>(_items.Select(s => (s, s)), StringComparer.Ordinal);
        while (heap.TryDequeue(out var next, out _))
        {
            yield return next;
        }
    }
}
