using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Infrastructure;

/// <summary>
/// Every SQLite connection the service opens checkpoints its write-ahead log at Database:SqliteWalCheckpointPages
/// (SQLite's own 1,000 pages made bulk writes pay for a checkpoint at nearly every commit), and gives the log's disk
/// space back down to that size.
/// </summary>
public sealed class SqliteConnectionSetupTests
{
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

    private static async Task<long> Scalar(DbContext db, string sql)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
