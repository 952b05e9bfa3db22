using System.Data.Common;
using System.Reflection;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// Applies the checked-in SQL migrations of the configured provider, in file-name order, each recorded
/// in schema_migrations. A lock (pg_advisory_lock on PostgreSQL, SQLite's write lock) makes processes
/// that start together take turns instead of racing.
/// </summary>
public sealed partial class SchemaMigrator(
    EmporiumDbContext db,
    IOptions<DatabaseOptions> options,
    ILogger<SchemaMigrator> logger) : IStartupTask
{
    private const long PostgresLockKey = 0x456D706F7269756D; // "Emporium"

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStart)
        {
            await MigrateAsync(cancellationToken);
        }
    }

    public static IReadOnlyList<(string Version, string Sql)> Scripts(DatabaseProvider provider)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"migrations/{provider}/";
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => (Path.GetFileNameWithoutExtension(name), Read(assembly, name)))
            .ToList();
    }

    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        var provider = options.Value.Provider;
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (provider == DatabaseProvider.Sqlite)
            {
                // WAL lets readers proceed during imports; it is a property of the file, set once.
                await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", cancellationToken);
            }
            else
            {
                await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({PostgresLockKey});", cancellationToken);
            }

            try
            {
                return await ApplyPendingAsync(connection, provider, cancellationToken);
            }
            finally
            {
                if (provider == DatabaseProvider.Postgres)
                {
                    await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({PostgresLockKey});", CancellationToken.None);
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<IReadOnlyList<string>> ApplyPendingAsync(
        DbConnection connection, DatabaseProvider provider, CancellationToken cancellationToken)
    {
        var applied = new List<string>();
        // On SQLite BeginTransaction is BEGIN IMMEDIATE: it takes the write lock before reading the history.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction,
            "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(200) NOT NULL PRIMARY KEY, applied_at VARCHAR(40) NOT NULL);",
            cancellationToken);
        var done = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT version FROM schema_migrations;";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                done.Add(reader.GetString(0));
            }
        }

        foreach (var (version, sql) in Scripts(provider).Where(script => !done.Contains(script.Version)))
        {
            LogApplying(logger, version, provider);
            await ExecuteAsync(connection, transaction, sql, cancellationToken);
            await using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @applied_at);";
            AddParameter(record, "@version", version);
            AddParameter(record, "@applied_at", DateTime.UtcNow.ToString("O"));
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied.Add(version);
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying migration {Version} on {Provider}")]
    private static partial void LogApplying(ILogger logger, string version, DatabaseProvider provider);
}
