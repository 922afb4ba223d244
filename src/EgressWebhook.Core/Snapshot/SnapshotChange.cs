using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Snapshot;

/// <summary>One change to a snapshot: <see cref="Object"/> added or replacing the object with its key, or, when it
/// is null, the object <see cref="Key"/> deleted. See <see cref="EgressSnapshot.Apply"/>.</summary>
public readonly record struct SnapshotChange(ObjectKey Key, EgressObject? Object)
{
    /// <summary>An object added or modified.</summary>
    public static SnapshotChange Put(EgressObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new SnapshotChange(obj.Key, obj);
    }

    /// <summary>An object deleted.</summary>
    public static SnapshotChange Delete(ObjectKey key) => new(key, null);

    /// <summary>Whether this change deletes <see cref="Key"/>.</summary>
    public bool IsDelete => Object is null;
}
