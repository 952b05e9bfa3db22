using System.Data;
using Emporium.Features.Catalog;
using Emporium.Features.Import;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage;
using SQLitePCL;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

/// <summary>
/// SQLite: the batch goes into a temporary staging table (one prepared INSERT per row, into a table with no index or
/// trigger), then one INSERT ... SELECT ... ON CONFLICT (sku_key) DO UPDATE ... WHERE something changed RETURNING
/// writes it to products, the same shape as the PostgreSQL path. A prepared upsert per row straight into products was
/// the slow part of an import (docs/benchmarks.md): every statement that writes products pays a fixed cost (the FTS5
/// index flushes its pending terms to disk at each statement's savepoint; AUTOINCREMENT reads and rewrites
/// sqlite_sequence), which one statement per batch pays once.
/// </summary>
internal sealed class SqliteProductBulkUpsert(EmporiumDbContext db, int importCacheMegabytes) : ProductBulkUpsert(db)
{
    /// <summary>SQLite lets one connection write at a time: a second writer would only wait for the first's lock.</summary>
    public override int MaxWriters => 1;

    /// <summary>
    /// Opens the context's connection for the whole import (so every batch runs on the same one, with its staging table)
    /// and gives it a page cache of Database:SqliteImportCacheMegabytes; disposing restores the cache, which frees the
    /// pages beyond it, and closes the connection.
    /// </summary>
    public override async Task<IAsyncDisposable> BeginImportAsync(TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        await Db.Database.OpenConnectionAsync(cancellationToken);
        var connection = (SqliteConnection)Db.Database.GetDbConnection();
        long original;
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = "PRAGMA cache_size";
            original = (long)(await read.ExecuteScalarAsync(cancellationToken))!;
        }

        // A negative cache_size is in KiB.
        await ExecuteAsync(connection, null, string.Create(CultureInfo.InvariantCulture, $"PRAGMA cache_size = {-1024L * importCacheMegabytes}"), cancellationToken);
        return new ImportConnection(Db, connection, original);
    }

    protected override async Task<IReadOnlyList<UpsertedProduct>> WriteAsync(
        IReadOnlyList<ImportRow> rows, ImportColumns columns, CatalogScope scope, DateTime now, CancellationToken cancellationToken)
    {
        var transaction = (SqliteTransaction)Transaction;
        var connection = transaction.Connection!;

        // The staging table lives as long as the (pooled) connection: creating and dropping it per batch changed the
        // schema twice a batch and cost more than the rows. Its rows come and go inside the batch's transaction, so a
        // rolled-back batch leaves it as empty as a committed one.
        await ExecuteAsync(
            connection,
            transaction,
            """
            CREATE TEMP TABLE IF NOT EXISTS import_staging (
                sku TEXT NOT NULL, sku_key TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, description TEXT,
                price INTEGER NOT NULL, currency TEXT, is_active INTEGER NOT NULL, brand_id INTEGER);
            DELETE FROM import_staging;
            """,
            cancellationToken);
        Stage(connection, rows);

        IReadOnlyList<UpsertedProduct> written;
        await using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = transaction;
            // WHERE true: without a WHERE, SQLite would read ON CONFLICT as the ON of a join (documented parsing rule).
            upsert.CommandText = $"""
                INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id, owner_id,
                                      created_at, updated_at, version)
                SELECT sku, sku_key, slug, name, description, price, coalesce(currency, 'USD'), is_active, brand_id, $owner,
                       $now, $now, 1
                FROM import_staging
                WHERE true
                {UpsertSql.DoUpdate(columns, "IS NOT", scope.OwnProductsOnly ? "$owner" : null)}
                RETURNING sku_key, id, version
                """;
            // The same text form EF Core writes, so timestamps sort and compare with the rest of the table.
            upsert.Parameters.AddWithValue("$now", now.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture));
            upsert.Parameters.AddWithValue("$owner", scope.UserId is { } owner ? owner : DBNull.Value);
            written = await ReadWrittenAsync(upsert, cancellationToken);
        }

        await ExecuteAsync(connection, transaction, "DELETE FROM import_staging", cancellationToken);
        return written;
    }

    /// <summary>
    /// Fills import_staging through SQLitePCL directly: one prepared statement bound by position and stepped per row
    /// (about 1 microsecond a row, where a SqliteCommand execution per row cost 8 to 15). It runs on the connection
    /// the caller's transaction is open on, so it is part of that transaction.
    /// </summary>
    private static void Stage(SqliteConnection connection, IReadOnlyList<ImportRow> rows)
    {
        var handle = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(
            handle,
            """
            INSERT INTO import_staging (sku, sku_key, slug, name, description, price, currency, is_active, brand_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """,
            out var statement), handle);
        using (statement)
        {
            foreach (var row in rows)
            {
                Check(raw.sqlite3_bind_text(statement, 1, row.Sku), handle);
                Check(raw.sqlite3_bind_text(statement, 2, row.SkuKey), handle);
                Check(raw.sqlite3_bind_text(statement, 3, row.Slug), handle);
                Check(raw.sqlite3_bind_text(statement, 4, row.Name), handle);
                Check(row.Description is null ? raw.sqlite3_bind_null(statement, 5) : raw.sqlite3_bind_text(statement, 5, row.Description), handle);
                // Amounts are integer ten-thousandths on SQLite (EmporiumDbContext, decision 0012).
                Check(raw.sqlite3_bind_int64(statement, 6, Money.ToStoredUnits(row.Price)), handle);
                Check(row.Currency is null ? raw.sqlite3_bind_null(statement, 7) : raw.sqlite3_bind_text(statement, 7, row.Currency), handle);
                Check(raw.sqlite3_bind_int(statement, 8, row.IsActive ? 1 : 0), handle);
                Check(row.BrandId is { } brandId ? raw.sqlite3_bind_int64(statement, 9, brandId) : raw.sqlite3_bind_null(statement, 9), handle);
                Check(raw.sqlite3_step(statement), handle);
                Check(raw.sqlite3_reset(statement), handle);
            }
        }
    }

    /// <summary>Throws the SqliteException Microsoft.Data.Sqlite would for any result but OK, ROW and DONE.</summary>
    private static void Check(int rc, sqlite3 handle) => SqliteException.ThrowExceptionForRC(rc, handle);

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class ImportConnection(EmporiumDbContext db, SqliteConnection connection, long originalCacheSize) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection.State == ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, string.Create(CultureInfo.InvariantCulture, $"PRAGMA cache_size = {originalCacheSize}"), CancellationToken.None);
            }

            await db.Database.CloseConnectionAsync();
        }
    }
}
