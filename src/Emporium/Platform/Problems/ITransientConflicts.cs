namespace Emporium.Platform.Problems;

/// <summary>
/// Says whether an exception means that a transaction lost a race the database resolved by aborting it (a deadlock, a
/// serialization failure, a busy or locked SQLite file): the same transaction may succeed when run again. Implemented by
/// the persistence adapter, the only code that knows the provider's error codes.
/// </summary>
public interface ITransientConflicts
{
    bool IsTransientConflict(Exception exception);
}
