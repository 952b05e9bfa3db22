using System.Data.Common;
using Microsoft.Data.Sqlite;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// Per-connection SQLite settings, applied once to each native connection when EF Core first opens it (a pooled
/// connection keeps them, so reopening it costs a look-up, not a command). <c>wal_autocheckpoint</c> is the one that matters: SQLite's default copies the write-ahead log into
/// the database file whenever it passes 1,000 pages (4 MB), inside the commit that passes it. A write-heavy job such as
/// a 500,000-row import commits every few MB, so with the default nearly every commit paid for a checkpoint, and hot
/// pages (index roots, the search index's structure) were copied again at each; a larger threshold copies each of
/// them once per checkpoint (docs/benchmarks.md). <c>journal_size_limit</c> gives the log's disk space back after a
/// checkpoint.
/// </summary>
internal sealed class SqliteConnectionSetup(int walCheckpointPages) : DbConnectionInterceptor
{
    private readonly string _pragmas = string.Create(
        CultureInfo.InvariantCulture,
        $"PRAGMA wal_autocheckpoint = {walCheckpointPages}; PRAGMA journal_size_limit = {walCheckpointPages * 4096L};");

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private readonly ConditionalWeakTable<sqlite3, object> _configured = [];

    private void Apply(DbConnection connection)
    {
        if (connection is not SqliteConnection { Handle: { } handle } sqlite || _configured.TryGetValue(handle, out _))
        {
            return;
        }

        using var command = sqlite.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
        _configured.AddOrUpdate(handle, handle);
    }
}
