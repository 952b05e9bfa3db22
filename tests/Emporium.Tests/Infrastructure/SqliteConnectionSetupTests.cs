using Emporium.Features.Import;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Infrastructure;

/// <summary>
/// Every SQLite connection the service opens checkpoints its write-ahead log at Database:SqliteWalCheckpointPages
/// (SQLite's own 1,000 pages made bulk writes pay for a checkpoint at nearly every commit), and gives the log's disk
/// space back down to that size. The connection an import writes through gets a bigger page cache for the import alone.
/// </summary>
public sealed class SqliteConnectionSetupTests
{
    [Fact]
    public async Task On_SQLite_the_thread_pool_keeps_the_configured_floor_of_worker_threads()
    {
        // SQLite's waits for another connection's lock hold a pool thread; the floor lets the pool add the next one at once.
        await using var app = new SqliteApp();
        app.With("Database:SqliteMinWorkerThreads", "48");

        (await app.Anonymous().GetAsync("/health/ready")).StatusCode.Should().Be(System.Net.HttpStatusCode.OK);

        ThreadPool.GetMinThreads(out var workers, out _);
        workers.Should().BeGreaterThanOrEqualTo(48);
    }

    [Theory]
    [InlineData(null, 16_384)]
    [InlineData("5000", 5_000)]
    public async Task Connections_checkpoint_the_write_ahead_log_at_the_configured_size(string? setting, long expected)
    {
        await using var app = new SqliteApp();
        if (setting is not null)
        {
            app.With("Database:SqliteWalCheckpointPages", setting);
        }

        var pragmas = await app.WithDbAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            try
            {
                return (
                    await Scalar(db, "PRAGMA wal_autocheckpoint"),
                    await Scalar(db, "PRAGMA journal_size_limit"),
                    await Scalar(db, "SELECT count(*) FROM products"));
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });

        pragmas.Should().Be((expected, expected * 4096, 0L));
    }

    [Fact]
    public async Task An_import_writes_through_one_connection_with_the_configured_page_cache_and_gives_the_memory_back_after()
    {
        await using var app = new SqliteApp();
        app.With("Database:SqliteImportCacheMegabytes", "8");
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        var bulkUpsert = scope.ServiceProvider.GetRequiredService<IProductBulkUpsert>();

        SQLitePCL.sqlite3 handle;
        await using (await bulkUpsert.BeginImportAsync(TimeSpan.FromSeconds(10), CancellationToken.None))
        {
            var connection = (SqliteConnection)db.Database.GetDbConnection();
            handle = connection.Handle!;
            // Negative: KiB. The connection stays open across the import's queries and transactions.
            (await Scalar(db, "PRAGMA cache_size")).Should().Be(-8 * 1024);
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await transaction.CommitAsync();
            }

            connection.State.Should().Be(System.Data.ConnectionState.Open);
            connection.Handle.Should().BeSameAs(handle);
        }

        db.Database.GetDbConnection().State.Should().Be(System.Data.ConnectionState.Closed);
        await db.Database.OpenConnectionAsync();
        try
        {
            // The pool hands the same native connection back: it has SQLite's default cache again (2,000 KiB).
            ((SqliteConnection)db.Database.GetDbConnection()).Handle.Should().BeSameAs(handle);
            (await Scalar(db, "PRAGMA cache_size")).Should().Be(-2000);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<long> Scalar(DbContext db, string sql)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
