namespace Emporium.Features.Catalog.Caching;

/// <summary>
/// Which product entries the processes have written to Redis (decision 0019, "Asking Redis only for shared entries"). A
/// product a process has never read goes to the database at once, without a Redis round trip that could only miss, unless
/// another process has shared its entry. A wrong answer costs a round trip or a database read, never a stale one: the
/// entry's key names its version either way.
/// </summary>
public interface ISharedEntries
{
    /// <summary>Whether Redis may hold the entry <paramref name="key"/>: true once a process has shared it, and whenever this one cannot tell.</summary>
    bool MayHold(string key);

    /// <summary>Tells every process that this one has written the entry <paramref name="key"/> to Redis.</summary>
    void Shared(string key);
}

/// <summary>For a cache without Redis, or one that shares every load: Redis may hold anything.</summary>
public sealed class EveryEntryShared : ISharedEntries
{
    public bool MayHold(string key) => true;

    public void Shared(string key)
    {
    }
}
