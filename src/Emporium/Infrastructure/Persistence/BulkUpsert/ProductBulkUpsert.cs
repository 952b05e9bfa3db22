using System.Data.Common;
using Emporium.Features.Catalog;
using Emporium.Features.Import;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

/// <summary>
/// What both providers do around their one-statement write of a batch: rows the look-ahead found unchanged are never
/// sent; rows that another writer created after the look-ahead are looked up, and are out of reach when the scope does not
/// reach their owner; a present categories column replaces each product's category links.
/// </summary>
internal abstract class ProductBulkUpsert(EmporiumDbContext db) : IProductBulkUpsert
{
    protected EmporiumDbContext Db { get; } = db;

    /// <summary>The caller's open transaction, which every statement of a batch joins.</summary>
    protected DbTransaction Transaction => Db.Database.CurrentTransaction?.GetDbTransaction()
        ?? throw new InvalidOperationException("The bulk upsert runs inside the caller's transaction.");

    public abstract int MaxWriters { get; }

    public abstract Task<IAsyncDisposable> BeginImportAsync(TimeSpan lockTimeout, CancellationToken cancellationToken);

    public async Task<IReadOnlyList<UpsertedProduct>> UpsertAsync(
        IReadOnlyList<ImportRow> rows, ImportColumns columns, CatalogScope scope, DateTime now, CancellationToken cancellationToken)
    {
        var changing = rows.Where(row => !row.Unchanged).ToList();
        var written = changing.Count == 0
            ? []
            : (await WriteAsync(changing, columns, scope, now, cancellationToken)).ToDictionary(w => w.SkuKey, StringComparer.Ordinal);

        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var row in rows)
        {
            if ((written.TryGetValue(row.SkuKey, out var w) ? w.Id : row.ExistingId) is { } id)
            {
                ids[row.SkuKey] = id;
            }
            else
            {
                // Created by another writer after the look-ahead, and left unchanged by this row (or out of reach).
                unknown.Add(row.SkuKey);
            }
        }

        if (unknown.Count > 0 && (scope.OwnProductsOnly || columns.Categories))
        {
            foreach (var product in await Db.Set<Product>().AsNoTracking()
                .Where(p => EF.Parameter(unknown).Contains(p.SkuKey))
                .Select(p => new { p.SkuKey, p.Id, p.OwnerId })
                .ToListAsync(cancellationToken))
            {
                if (scope.Reaches(product.OwnerId))
                {
                    ids[product.SkuKey] = product.Id;
                }
                else
                {
                    written[product.SkuKey] = new UpsertedProduct(product.SkuKey, product.Id, UpsertOutcome.OutOfReach);
                }
            }
        }

        if (columns.Categories)
        {
            await ReplaceCategoriesAsync(rows.Where(row => ids.ContainsKey(row.SkuKey)).ToList(), ids, written, now, cancellationToken);
        }

        return [.. written.Values];
    }

    /// <summary>
    /// The provider's write: inserts the rows whose SKU key is new and updates the others where a supplied field differs
    /// (never a product out of the scope's reach), in one statement; returns the rows it wrote.
    /// </summary>
    protected abstract Task<IReadOnlyList<UpsertedProduct>> WriteAsync(
        IReadOnlyList<ImportRow> rows, ImportColumns columns, CatalogScope scope, DateTime now, CancellationToken cancellationToken);

    /// <summary>Reads the written rows from an upsert's RETURNING sku_key, id, version: version 1 is a new product.</summary>
    protected static async Task<IReadOnlyList<UpsertedProduct>> ReadWrittenAsync(DbCommand upsert, CancellationToken cancellationToken)
    {
        var written = new List<UpsertedProduct>();
        await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            written.Add(new UpsertedProduct(
                reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2) == 1 ? UpsertOutcome.Created : UpsertOutcome.Updated));
        }

        return written;
    }

    /// <summary>
    /// A present categories column replaces each product's live categories. A product whose only change is its categories
    /// still gets a new version and counts as updated. Links to deleted categories, which no read or export shows and no
    /// file can name, stay (a restored category holds its products again), as the API's PUT keeps them.
    /// </summary>
    private async Task ReplaceCategoriesAsync(
        List<ImportRow> rows, Dictionary<string, long> ids, Dictionary<string, UpsertedProduct> written, DateTime now, CancellationToken cancellationToken)
    {
        var productIds = rows.Select(row => ids[row.SkuKey]).ToList();
        var current = (await Db.Set<Dictionary<string, object>>("product_categories").AsNoTracking()
                .Where(pc => EF.Parameter(productIds).Contains(EF.Property<long>(pc, "product_id")))
                .Where(pc => Db.Set<Category>().Any(c => c.Id == EF.Property<long>(pc, "category_id") && c.DeletedAt == null))
                .Select(pc => new { ProductId = EF.Property<long>(pc, "product_id"), CategoryId = EF.Property<long>(pc, "category_id") })
                .ToListAsync(cancellationToken))
            .ToLookup(pc => pc.ProductId, pc => pc.CategoryId);

        var replace = new List<(long ProductId, IReadOnlyList<long> CategoryIds)>();
        var bump = new List<long>();
        foreach (var row in rows)
        {
            var id = ids[row.SkuKey];
            if (current[id].ToHashSet().SetEquals(row.CategoryIds))
            {
                continue;
            }

            replace.Add((id, row.CategoryIds));
            if (!written.ContainsKey(row.SkuKey))
            {
                bump.Add(id);
                written[row.SkuKey] = new UpsertedProduct(row.SkuKey, id, UpsertOutcome.Updated);
            }
        }

        // Ids are numbers from our own queries, so inlining them is safe and keeps this one statement per chunk.
        foreach (var chunk in replace.Chunk(1_000))
        {
            var list = string.Join(",", chunk.Select(r => r.ProductId.ToString(CultureInfo.InvariantCulture)));
            var delete = $"DELETE FROM product_categories WHERE product_id IN ({list}) AND category_id IN (SELECT id FROM categories WHERE deleted_at IS NULL)";
            await Db.Database.ExecuteSqlRawAsync(delete, cancellationToken);
            var pairs = chunk
                .SelectMany(r => r.CategoryIds.Select(c => string.Create(CultureInfo.InvariantCulture, $"({r.ProductId},{c})")))
                .ToList();
            if (pairs.Count > 0)
            {
                var insert = $"INSERT INTO product_categories (product_id, category_id) VALUES {string.Join(",", pairs)}";
                await Db.Database.ExecuteSqlRawAsync(insert, cancellationToken);
            }
        }

        if (bump.Count > 0)
        {
            await Db.Set<Product>()
                .Where(p => EF.Parameter(bump).Contains(p.Id))
                .ExecuteUpdateAsync(set => set
                    .SetProperty(p => p.UpdatedAt, now)
                    .SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
        }
    }
}
