namespace EgressWebhook.Core.Model;

/// <summary>Names one object: kind, namespace and name. Cluster-scoped objects have an empty namespace.</summary>
public sealed record ObjectRef(string Kind, string Namespace, string Name) : IComparable<ObjectRef>
{
    /// <summary><c>Kind ns/name</c>, the way kubectl users read it.</summary>
    public override string ToString() => Namespace.Length == 0 ? $"{Kind} {Name}" : $"{Kind} {Namespace}/{Name}";

    public int CompareTo(ObjectRef? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = string.CompareOrdinal(Kind, other.Kind);
        if (c == 0)
        {
            c = string.CompareOrdinal(Namespace, other.Namespace);
        }

        return c != 0 ? c : string.CompareOrdinal(Name, other.Name);
    }

    public static bool operator <(ObjectRef? left, ObjectRef? right) => Compare(left, right) < 0;

    public static bool operator <=(ObjectRef? left, ObjectRef? right) => Compare(left, right) <= 0;

    public static bool operator >(ObjectRef? left, ObjectRef? right) => Compare(left, right) > 0;

    public static bool operator >=(ObjectRef? left, ObjectRef? right) => Compare(left, right) >= 0;

    private static int Compare(ObjectRef? left, ObjectRef? right) => left is null ? (right is null ? 0 : -1) : left.CompareTo(right);
}
