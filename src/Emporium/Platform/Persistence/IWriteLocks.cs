namespace Emporium.Platform.Persistence;

/// <summary>
/// Locks for writes that check other rows before they change one: a category's move checks that its new parent is not
/// below it, a delete that it has no children. Two such writes running at once each pass their checks on what the other
/// is about to change (a cycle, a child under a deleted parent); holding the same lock makes them run one after the
/// other, each checking what the one before it committed. Take it inside a transaction, before the checks read; it is
/// held until the transaction ends. Writes that name several keys of one lock take them in ascending order.
/// </summary>
public interface IWriteLocks
{
    Task HoldAsync(string name, long key, CancellationToken cancellationToken);
}
