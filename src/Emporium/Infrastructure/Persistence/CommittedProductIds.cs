using Emporium.Features.Catalog;
using Emporium.Features.Import;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// PostgreSQL: waits for the writes to products in flight to commit (a SHARE lock conflicts with every writer's ROW
/// EXCLUSIVE, and an insert takes that lock before it draws its id), then reads the largest id; ids drawn afterwards are
/// higher. The lock is held for that one read. Past <see cref="LockTimeout"/> (a transaction left open on products) the
/// request is refused as unavailable (503), not left hanging.
/// </summary>
internal sealed class PostgresCommittedProductIds(EmporiumDbContext db) : ICommittedProductIds
{
    private const string LockTimeout = "2s";

    public async Task<long> HighestAsync(CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteAsync($"SET LOCAL lock_timeout = '{LockTimeout}'; LOCK TABLE products IN SHARE MODE", cancellationToken);
        var highest = await db.Set<Product>().MaxAsync(p => (long?)p.Id, cancellationToken) ?? 0;
        await transaction.CommitAsync(cancellationToken);
        return highest;
    }
}

/// <summary>SQLite: one writer at a time, and a write in flight draws ids above every committed one.</summary>
internal sealed class SqliteCommittedProductIds(EmporiumDbContext db) : ICommittedProductIds
{
    public async Task<long> HighestAsync(CancellationToken cancellationToken) =>
        await db.Set<Product>().MaxAsync(p => (long?)p.Id, cancellationToken) ?? 0;
}
