using System.ComponentModel.DataAnnotations;
using Npgsql;

namespace Emporium.Infrastructure.Persistence;

/// <summary>Database settings (section Database; DATABASE_URL is accepted as a shortcut for PostgreSQL).</summary>
public sealed class DatabaseOptions : IValidatableObject
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>ADO.NET connection string. Default for SQLite: Data Source={Emporium:DataDirectory}/emporium.db.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending migrations at start-up (under a lock, so many processes may start at once).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Seconds a single command may run before it is cancelled.</summary>
    [Range(1, 3600)]
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// SQLite only: the write-ahead log is copied into the database file once it holds this many pages (of 4 KiB).
    /// SQLite's own default, 1,000, made bulk writes pay for a checkpoint at nearly every commit; 16,384 (64 MB) keeps
    /// that cost off most commits at the price of up to that much extra disk.
    /// </summary>
    [Range(100, 1_000_000)]
    public int SqliteWalCheckpointPages { get; set; } = 16_384;

    /// <summary>
    /// SQLite only: the page cache of the connection a CSV import writes through, for the length of the import (other
    /// connections keep SQLite's 2 MB). An import adds entries all over the product indexes at once (slug, name, search);
    /// with 2 MB most of those pages were read again for every batch.
    /// </summary>
    [Range(2, 4_096)]
    public int SqliteImportCacheMegabytes { get; set; } = 32;

    /// <summary>
    /// SQLite only: the thread pool's floor of worker threads (raised at start, never lowered). SQLite's API is
    /// synchronous, so a write that waits for another connection's transaction (a job's heartbeat during an import, an API
    /// write) holds a pool thread while it waits; with the runtime's floor of one thread per core, the next awaiting
    /// continuation then waited for the pool to add a thread, which it does about twice a second (docs/decisions/0011).
    /// </summary>
    [Range(1, 1_000)]
    public int SqliteMinWorkerThreads { get; set; } = 32;

    /// <summary>
    /// PostgreSQL: the connection string the service opens, with the pool settings of decision 0018 added where the given
    /// string does not set them: statements that run a few times are prepared on their connection (planned once, not on
    /// every request), and a connection handed back to the pool keeps that state instead of running DISCARD ALL. The service
    /// keeps no other session state across uses (temporary tables are ON COMMIT DROP; the migration lock is released
    /// explicitly).
    /// </summary>
    public string EffectiveConnectionString()
    {
        if (Provider != DatabaseProvider.Postgres || ConnectionString is null)
        {
            return ConnectionString ?? "";
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var given = ConnectionString.Replace(" ", "", StringComparison.Ordinal);
        if (!given.Contains("MaxAutoPrepare=", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 100;
        }

        if (!given.Contains("NoResetOnClose=", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Database:ConnectionString (or DATABASE_URL) is required when Database:Provider is Postgres.",
                [nameof(ConnectionString)]);
        }
    }

    /// <summary>Reads postgres://user:pass@host:port/db?sslmode=require into an Npgsql connection string.</summary>
    public static string FromDatabaseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            throw new OptionsValidationException(Section, typeof(DatabaseOptions),
                ["DATABASE_URL must look like postgres://user:password@host:port/database."]);
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            Username = Uri.UnescapeDataString(userInfo[0]),
        };
        if (userInfo.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var (name, value) = (Uri.UnescapeDataString(parts[0]), parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : "");
            if (!UrlParameters.TryGetValue(name, out var apply) || !apply(builder, value))
            {
                throw new OptionsValidationException(Section, typeof(DatabaseOptions),
                [
                    UrlParameters.ContainsKey(name)
                        ? $"DATABASE_URL: {name}={value} is not a value it takes."
                        : $"DATABASE_URL: the parameter {name} is not supported (supported: {string.Join(", ", UrlParameters.Keys.Order(StringComparer.Ordinal))}); use Database:ConnectionString for other settings.",
                ]);
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>The libpq URL parameters a DATABASE_URL may carry, as their Npgsql settings; false for a value they do not take.</summary>
    private static readonly Dictionary<string, Func<NpgsqlConnectionStringBuilder, string, bool>> UrlParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = (builder, value) =>
        {
            // libpq spells them disable, allow, prefer, require, verify-ca and verify-full.
            var parsed = Enum.TryParse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var mode)
                && Enum.IsDefined(mode) && !value.All(char.IsAsciiDigit);
            builder.SslMode = mode;
            return parsed;
        },
        // "system" is libpq's name for the system's certificate store, which Npgsql uses when no file is named.
        ["sslrootcert"] = (builder, value) => value == "system" || Set(() => builder.RootCertificate = value, value),
        // The JDBC-style switch some providers write instead of sslmode.
        ["ssl"] = (builder, value) => bool.TryParse(value, out var ssl) && Set(() => builder.SslMode = ssl ? SslMode.Require : SslMode.Disable, value),
        ["target_session_attrs"] = (builder, value) =>
            value is "any" or "read-write" or "read-only" or "primary" or "standby" or "prefer-primary" or "prefer-standby"
            && Set(() => builder.TargetSessionAttributes = value, value),
        ["gssencmode"] = (builder, value) =>
        {
            var parsed = Enum.TryParse<GssEncryptionMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !value.All(char.IsAsciiDigit);
            builder.GssEncryptionMode = mode;
            return parsed;
        },
        ["sslcert"] = (builder, value) => Set(() => builder.SslCertificate = value, value),
        ["sslkey"] = (builder, value) => Set(() => builder.SslKey = value, value),
        ["application_name"] = (builder, value) => Set(() => builder.ApplicationName = value, value),
        ["connect_timeout"] = (builder, value) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 1024 && Set(() => builder.Timeout = seconds, value),
        ["channel_binding"] = (builder, value) =>
        {
            var parsed = Enum.TryParse<ChannelBinding>(value, ignoreCase: true, out var binding) && Enum.IsDefined(binding) && !value.All(char.IsAsciiDigit);
            builder.ChannelBinding = binding;
            return parsed;
        },
    };

    private static bool Set(Action set, string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        set();
        return true;
    }
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}
