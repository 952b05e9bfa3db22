using System.Data;
using Emporium.Features.Catalog;
using Emporium.Features.Import;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Emporium.Infrastructure.Persistence.BulkUpsert;

/// <summary>
/// PostgreSQL: binary COPY of the batch into a temporary staging table, then one INSERT ... SELECT ... ON CONFLICT
/// (sku_key) DO UPDATE ... WHERE something changed RETURNING, which tells created (version 1) from updated rows.
/// </summary>
internal sealed class PostgresProductBulkUpsert(EmporiumDbContext db) : ProductBulkUpsert(db)
{
    /// <summary>Each connection's batches run on their own server process, beside the others'.</summary>
    public override int MaxWriters => int.MaxValue;

    /// <summary>
    /// Holds the context's connection open for the whole import with <c>lock_timeout</c> set. An import writes on several
    /// connections, and one waits, idle in its transaction, until the batch before it commits: a lock wait that runs from
    /// one of them through another writer (a second import of the same SKUs, a bulk delete) back to the other is a
    /// deadlock the server cannot see, since one of its edges is in this process. The timeout ends it: the statement
    /// fails, the attempt's open batches roll back, and the job's next attempt resumes from its last checkpoint.
    /// </summary>
    public override async Task<IAsyncDisposable> BeginImportAsync(TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        await Db.Database.OpenConnectionAsync(cancellationToken);
        var milliseconds = (long)Math.Ceiling(lockTimeout.TotalMilliseconds);
        await Db.Database.ExecuteSqlRawAsync(
            string.Create(CultureInfo.InvariantCulture, $"SET lock_timeout = {milliseconds}"), cancellationToken);
        return new ImportConnection(Db);
    }

    protected override async Task<IReadOnlyList<UpsertedProduct>> WriteAsync(
        IReadOnlyList<ImportRow> rows, ImportColumns columns, CatalogScope scope, DateTime now, CancellationToken cancellationToken)
    {
        var transaction = (NpgsqlTransaction)Transaction;
        var connection = transaction.Connection!;

        // ON COMMIT DROP: the staging table disappears with the batch's transaction, committed or rolled back.
        await using (var create = new NpgsqlCommand(
            """
            CREATE TEMP TABLE import_staging (
                sku varchar(64) NOT NULL, sku_key varchar(64) NOT NULL, slug varchar(160) NOT NULL,
                name varchar(255) NOT NULL, description varchar(10000), price numeric(18,4) NOT NULL,
                currency varchar(3), is_active boolean NOT NULL, brand_id bigint) ON COMMIT DROP
            """, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var importer = await connection.BeginBinaryImportAsync(
            "COPY import_staging (sku, sku_key, slug, name, description, price, currency, is_active, brand_id) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            // Synchronous writes: they only fill Npgsql's buffer (flushed as it fills); an await per value cost more than the copy.
            foreach (var row in rows)
            {
                importer.StartRow();
                importer.Write(row.Sku, NpgsqlDbType.Varchar);
                importer.Write(row.SkuKey, NpgsqlDbType.Varchar);
                importer.Write(row.Slug, NpgsqlDbType.Varchar);
                importer.Write(row.Name, NpgsqlDbType.Varchar);
                if (row.Description is null)
                {
                    importer.WriteNull();
                }
                else
                {
                    importer.Write(row.Description, NpgsqlDbType.Varchar);
                }

                importer.Write(row.Price, NpgsqlDbType.Numeric);
                if (row.Currency is null)
                {
                    importer.WriteNull();
                }
                else
                {
                    importer.Write(row.Currency, NpgsqlDbType.Varchar);
                }

                importer.Write(row.IsActive, NpgsqlDbType.Boolean);
                if (row.BrandId is { } brandId)
                {
                    importer.Write(brandId, NpgsqlDbType.Bigint);
                }
                else
                {
                    importer.WriteNull();
                }
            }

            await importer.CompleteAsync(cancellationToken);
        }

        var sql = $"""
            INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id, owner_id,
                                  created_at, updated_at, version)
            SELECT sku, sku_key, slug, name, description, price, coalesce(currency, 'USD'), is_active, brand_id, @owner,
                   @now, @now, 1
            FROM import_staging s
            ORDER BY s.sku_key
            {UpsertSql.DoUpdate(columns, "IS DISTINCT FROM", scope.OwnProductsOnly ? "@owner" : null)}
            RETURNING sku_key, id, version
            """;
        await using var upsert = new NpgsqlCommand(sql, connection, transaction);
        upsert.Parameters.Add(new NpgsqlParameter("now", NpgsqlDbType.TimestampTz) { Value = now });
        upsert.Parameters.Add(new NpgsqlParameter("owner", NpgsqlDbType.Bigint) { Value = scope.UserId is { } owner ? owner : DBNull.Value });
        var written = await ReadWrittenAsync(upsert, cancellationToken);

        await using (var drop = new NpgsqlCommand("DROP TABLE import_staging", connection, transaction))
        {
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        return written;
    }
}

file sealed class ImportConnection(EmporiumDbContext db) : IAsyncDisposable
{
    /// <summary>
    /// Puts the server's default back before the connection returns to the pool, which keeps sessions as they are
    /// (NoResetOnClose, for the prepared statements; DatabaseOptions). A broken connection is discarded instead.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (db.Database.GetDbConnection().State == ConnectionState.Open)
        {
            await db.Database.ExecuteSqlRawAsync("RESET lock_timeout");
        }

        await db.Database.CloseConnectionAsync();
    }
}
