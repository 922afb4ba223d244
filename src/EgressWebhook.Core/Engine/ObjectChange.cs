using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Engine;

/// <summary>Admission operations.</summary>
public enum Operation
{
    Create,
    Update,
    Delete,
    Connect,
}

/// <summary>One object being created, updated or deleted.</summary>
/// <param name="Operation">What happens to it.</param>
/// <param name="Object">The new version (null on delete).</param>
/// <param name="OldObject">The stored version (update and delete), when known.</param>
public sealed record ObjectChange(Operation Operation, EgressObject? Object, EgressObject? OldObject);
