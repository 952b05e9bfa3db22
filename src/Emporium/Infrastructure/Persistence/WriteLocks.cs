using Emporium.Platform.Persistence;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// PostgreSQL: a transaction-level advisory lock keyed by the lock's name and the key (the two-int4 key space, apart from
/// the migrator's single-bigint one). Keys past int4 wrap: two keys that meet only wait for each other, they never pass.
/// </summary>
internal sealed class PostgresWriteLocks(EmporiumDbContext db) : IWriteLocks
{
    public async Task HoldAsync(string name, long key, CancellationToken cancellationToken)
    {
        WriteLocks.RequireTransaction(db);
        await db.Database.ExecuteAsync(
            "SELECT pg_advisory_xact_lock(hashtext(@name), @key)", cancellationToken, ("name", name), ("key", unchecked((int)key)));
    }
}

/// <summary>
/// SQLite: nothing to take. A transaction on SQLite begins with <c>BEGIN IMMEDIATE</c> (Microsoft.Data.Sqlite's default),
/// which holds the database's one write lock from its first statement to its end, so every write transaction already
/// runs alone.
/// </summary>
internal sealed class SqliteWriteLocks(EmporiumDbContext db) : IWriteLocks
{
    public Task HoldAsync(string name, long key, CancellationToken cancellationToken)
    {
        WriteLocks.RequireTransaction(db);
        return Task.CompletedTask;
    }
}

internal static class WriteLocks
{
    /// <summary>A lock taken outside a transaction would end with the statement that takes it: a caller's mistake.</summary>
    public static void RequireTransaction(EmporiumDbContext db)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A write lock is held for a transaction: begin one first.");
        }
    }
}
