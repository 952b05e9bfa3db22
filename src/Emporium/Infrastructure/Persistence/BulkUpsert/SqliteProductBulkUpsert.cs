using System.Globalization;
using Emporium.Features.Import;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

/// <summary>
/// SQLite: the batch goes into a temporary staging table (one prepared INSERT per row, into a table with no index or
/// trigger), then one INSERT ... SELECT ... ON CONFLICT (sku_key) DO UPDATE ... WHERE something changed RETURNING
/// writes it to products, the same shape as the PostgreSQL path. A prepared upsert per row straight into products was
/// the slow part of an import (docs/benchmarks.md): every statement that writes products pays a fixed cost (the FTS5
/// index flushes its pending terms to disk at each statement's savepoint; AUTOINCREMENT reads and rewrites
/// sqlite_sequence), which one statement per batch pays once.
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

        // Created and dropped inside the batch's transaction: a rollback removes it as well.
        await ExecuteAsync(
            connection,
            transaction,
            """
            CREATE TEMP TABLE import_staging (
                sku TEXT NOT NULL, sku_key TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
                price REAL NOT NULL, is_active INTEGER NOT NULL, brand_id INTEGER)
            """,
            cancellationToken);

        await using (var stage = connection.CreateCommand())
        {
            stage.Transaction = transaction;
            stage.CommandText = """
                INSERT INTO import_staging (sku, sku_key, slug, name, description, price, is_active, brand_id)
                VALUES ($sku, $sku_key, $slug, $name, $description, $price, $is_active, $brand_id)
                """;
            var sku = stage.Parameters.Add("$sku", SqliteType.Text);
            var skuKey = stage.Parameters.Add("$sku_key", SqliteType.Text);
            var slug = stage.Parameters.Add("$slug", SqliteType.Text);
            var name = stage.Parameters.Add("$name", SqliteType.Text);
            var description = stage.Parameters.Add("$description", SqliteType.Text);
            // Prices are REAL on SQLite (see EmporiumDbContext), so compare and store them as doubles.
            var price = stage.Parameters.Add("$price", SqliteType.Real);
            var isActive = stage.Parameters.Add("$is_active", SqliteType.Integer);
            var brandId = stage.Parameters.Add("$brand_id", SqliteType.Integer);
            stage.Prepare();
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
                await stage.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        var written = new List<UpsertedProduct>();
        await using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = transaction;
            // WHERE true: without a WHERE, SQLite would read ON CONFLICT as the ON of a join (documented parsing rule).
            upsert.CommandText = $"""
                INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id,
                                      created_at, updated_at, version)
                SELECT sku, sku_key, slug, name, description, price, 'USD', is_active, brand_id, $now, $now, 1
                FROM import_staging
                WHERE true
                {UpsertSql.DoUpdate(columns, "IS NOT")}
                RETURNING sku_key, id, version
                """;
            // The same text form EF Core writes, so timestamps sort and compare with the rest of the table.
            upsert.Parameters.AddWithValue("$now", now.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(new UpsertedProduct(reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2) == 1));
            }
        }

        await ExecuteAsync(connection, transaction, "DROP TABLE import_staging", cancellationToken);
        return written;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
