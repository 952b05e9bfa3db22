using System.Data.Common;
using Microsoft.Data.Sqlite;
using System.Runtime.CompilerServices;
using System.Text;
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
/// checkpoint. And <c>lower()</c> becomes Unicode-aware, as PostgreSQL's is.
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

    /// <summary>
    /// lower(x) by .NET's invariant culture; ASCII text (nearly every call) is folded in place without a string, so a
    /// call costs a transition into managed code and little more.
    /// </summary>
    private static void Lower(sqlite3_context context, object userData, sqlite3_value[] arguments)
    {
        var value = arguments[0];
        if (raw.sqlite3_value_type(value) == raw.SQLITE_NULL)
        {
            raw.sqlite3_result_null(context);
            return;
        }

        raw.sqlite3_value_text(value); // makes the value text (a number becomes its digits), as lower() reads it
        var text = raw.sqlite3_value_blob(value);
        if (text.Length == 0)
        {
            // An empty span reaches SQLite as a null pointer, which would answer NULL.
            raw.sqlite3_result_text(context, string.Empty);
        }
        else if (text.Length <= 512 && Ascii.IsValid(text))
        {
            Span<byte> lowered = stackalloc byte[text.Length];
            Ascii.ToLower(text, lowered, out _);
            raw.sqlite3_result_text(context, lowered);
        }
        else
        {
            raw.sqlite3_result_text(context, Encoding.UTF8.GetString(text).ToLowerInvariant());
        }
    }

    private void Apply(DbConnection connection)
    {
        if (connection is not SqliteConnection { Handle: { } handle } sqlite || _configured.TryGetValue(handle, out _))
        {
            return;
        }

        using var command = sqlite.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
        // SQLite's own lower() folds ASCII letters only, so "any case" filters (lower(name) LIKE ...) missed "Émile" and
        // "Чай" on the embedded default while PostgreSQL found them. No index or trigger uses lower(), so replacing it
        // changes no stored value. It is registered on the native handle, not through SqliteConnection.CreateFunction:
        // that one is removed again when the connection goes back to the pool, which leaves the pooled handle with a
        // lower() of no arguments at all for the next SqliteConnection.
        SqliteException.ThrowExceptionForRC(
            raw.sqlite3_create_function(handle, "lower", 1, raw.SQLITE_UTF8 | raw.SQLITE_DETERMINISTIC, null, Lower), handle);
        _configured.AddOrUpdate(handle, handle);
    }
}
