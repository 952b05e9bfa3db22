using Emporium.Features.Catalog;
using Emporium.Features.Events;
using Emporium.Platform.Persistence;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Features.Import;

/// <summary>
/// The connections an import writes its batches on (Import:WriterConnections, at most what the database allows at once:
/// one on SQLite). The first is the import's own DbContext; each other one is a DbContext of a service scope of its own,
/// with the bulk upsert and event outbox bound to it. A batch's checkpoint joins the transaction of the lane that wrote it.
/// </summary>
internal sealed class WriterLanes : IAsyncDisposable
{
    private readonly List<WriterLane> _lanes = [];
    private readonly List<IAsyncDisposable> _owned = [];

    private WriterLanes()
    {
    }

    public IReadOnlyList<WriterLane> All => _lanes;

    public static async Task<WriterLanes> OpenAsync(
        int count,
        TimeSpan lockTimeout,
        IServiceProvider services,
        IServiceScopeFactory scopes,
        ImportColumns columns,
        CatalogScope scope,
        RejectedProducts rejectedProducts,
        CancellationToken cancellationToken)
    {
        var lanes = new WriterLanes();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var provider = services;
                if (i > 0)
                {
                    var owned = scopes.CreateAsyncScope();
                    lanes._owned.Add(owned);
                    provider = owned.ServiceProvider;
                }

                var db = provider.GetRequiredService<EmporiumDbContext>();
                var bulkUpsert = provider.GetRequiredService<IProductBulkUpsert>();
                // Disposed before its scope: it puts the connection back as it found it.
                lanes._owned.Add(await bulkUpsert.BeginImportAsync(lockTimeout, cancellationToken));
                lanes._lanes.Add(new WriterLane(
                    db, bulkUpsert, new VariantRows(db, provider.GetRequiredService<IEventOutbox>(), columns, scope, rejectedProducts), provider.GetRequiredService<IWriteLocks>()));
            }

            return lanes;
        }
        catch
        {
            await lanes.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _owned.Clear();
    }
}

/// <summary>One connection that writes batches, and the transaction it has open.</summary>
internal sealed class WriterLane(EmporiumDbContext db, IProductBulkUpsert bulkUpsert, VariantRows variants, IWriteLocks locks)
{
    public EmporiumDbContext Db => db;

    public IDbContextTransaction? Transaction { get; set; }

    public long TransactionStarted { get; set; }

    public int BatchesInTransaction { get; set; }

    /// <summary>Brands the open transaction created, which no other connection sees before it commits.</summary>
    public HashSet<long> CreatedBrands { get; } = [];

    /// <summary>The batch's products, then its variant rows and stock cells (decision 0016), in the open transaction.</summary>
    /// <summary>
    /// Holds, for the open transaction, the lock of each attribute the file's columns name (ascending), as the API's variant
    /// writes do (decision 0016): an attribute's value cannot be removed while this transaction writes variants with it, nor
    /// be gone from under them. The variant rows then read those attributes afresh.
    /// </summary>
    public async Task HoldAttributesAsync(IReadOnlyList<string> slugs, CancellationToken cancellationToken)
    {
        var ids = await db.Set<Catalog.Attributes.ProductAttribute>().AsNoTracking()
            .Where(a => EF.Parameter(slugs).Contains(a.Slug))
            .Select(a => a.Id)
            .OrderBy(id => id)
            .ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            await locks.HoldAsync(Catalog.Attributes.AttributeEndpoints.ValuesLock, id, cancellationToken);
        }

        variants.ForgetAttributes();
    }

    /// <param name="rolledBack">On a dry run, the products earlier batches created and rolled back (see <see cref="VariantRows"/>).</param>
    public async Task<Written> WriteAsync(
        List<ImportRow> rows,
        List<ImportRow> variantRows,
        ImportColumns columns,
        CatalogScope scope,
        DateTime now,
        IReadOnlyDictionary<string, string>? rolledBack,
        CancellationToken cancellationToken)
    {
        var products = (await bulkUpsert.UpsertAsync(rows, columns, scope, now, cancellationToken))
            .ToDictionary(w => w.SkuKey, w => w.Outcome, StringComparer.Ordinal);
        return new Written(products, await variants.WriteAsync(rows, variantRows, now, rolledBack, cancellationToken));
    }

    /// <summary>What a batch's write did, by SKU key: products written (the rest were unchanged), and variant rows.</summary>
    public sealed record Written(Dictionary<string, UpsertOutcome> Products, VariantRows.Outcome Variants)
    {
        /// <summary>A batch with no row to write.</summary>
        public static Task<Written> Nothing => Task.FromResult(new Written([], new VariantRows.Outcome([], [])));
    }
}
