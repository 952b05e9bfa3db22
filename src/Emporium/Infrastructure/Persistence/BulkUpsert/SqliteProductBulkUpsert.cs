using Emporium.Features.Import;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

/// <summary>
/// SQLite: one prepared INSERT ... ON CONFLICT (sku_key) DO UPDATE ... WHERE something changed RETURNING, executed
/// per row inside the batch's transaction (SQLite runs in-process, so a prepared statement per row is as fast as
/// any bulk form, and the single transaction makes it one fsync per batch).
/// </summary>
internal sealed class SqliteProductBulkUpsert(EmporiumDbContext db) : IProductBulkUpsert
{
    public async Task<IReadOnlyList<UpsertedProduct>> UpsertAsync(
        IReadOnlyList<ImportRow> rows, ImportColumns columns, DateTime now, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var transaction = (SqliteTransaction?)db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("The bulk upsert runs inside the caller's transaction.");

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id,
                                  created_at, updated_at, version)
            VALUES ($sku, $sku_key, $slug, $name, $description, $price, 'USD', $is_active, $brand_id, $now, $now, 1)
            {UpsertSql.DoUpdate(columns, "IS NOT")}
            RETURNING id, version
            """;
        var sku = command.Parameters.Add("$sku", SqliteType.Text);
        var skuKey = command.Parameters.Add("$sku_key", SqliteType.Text);
        var slug = command.Parameters.Add("$slug", SqliteType.Text);
        var name = command.Parameters.Add("$name", SqliteType.Text);
        var description = command.Parameters.Add("$description", SqliteType.Text);
        // Prices are REAL on SQLite (see EmporiumDbContext), so compare and store them as doubles.
        var price = command.Parameters.Add("$price", SqliteType.Real);
        var isActive = command.Parameters.Add("$is_active", SqliteType.Integer);
        var brandId = command.Parameters.Add("$brand_id", SqliteType.Integer);
        // The same text form EF Core writes, so timestamps sort and compare with the rest of the table.
        command.Parameters.AddWithValue("$now", now.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", System.Globalization.CultureInfo.InvariantCulture));
        command.Prepare();

        var written = new List<UpsertedProduct>();
        foreach (var row in rows)
        {
            sku.Value = row.Sku;
            skuKey.Value = row.SkuKey;
            slug.Value = row.Slug;
            name.Value = row.Name;
            description.Value = (object?)row.Description ?? DBNull.Value;
            price.Value = (double)row.Price;
            isActive.Value = row.IsActive ? 1 : 0;
            brandId.Value = (object?)row.BrandId ?? DBNull.Value;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                written.Add(new UpsertedProduct(row.SkuKey, reader.GetInt64(0), reader.GetInt32(1) == 1));
            }
        }

        return written;
    }
}
