using Microsoft.Data.Sqlite;
using Npgsql;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// Provider errors that mean "the database cannot be reached now", so the API answers 503 with Retry-After instead of 500.
/// (A write that collides with a unique key is recognised by the feature itself, by looking for the row that holds the key.)
/// </summary>
public sealed class DbErrors : Platform.Problems.IUnavailableDependencies, Platform.Problems.ITransientConflicts
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;


    /// <summary>
    /// Connection failures, timeouts and server shutdowns (Npgsql marks them transient, plus the SQLSTATEs of a server
    /// that refuses or drops connections), and SQLite's busy or locked file: anywhere in the exception's chain.
    /// </summary>
    public bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres when postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                        or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
                        // lock_timeout: a lock another transaction holds was not granted in time.
                        or PostgresErrorCodes.LockNotAvailable:
                    return true;
                case PostgresException:
                    return false;
                case NpgsqlException npgsql when npgsql.IsTransient:
                    return true;
                case SqliteException sqlite when sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// PostgreSQL's deadlock (40P01) and serialization failure (40001), and its internal error "new multixact has more than
    /// one updating member" (XX000: a server bug seen here once, under concurrent checkouts locking the same variant rows;
    /// like the others it aborts the whole transaction, so running it again is safe); SQLite's busy or locked file.
    /// </summary>
    public bool IsTransientConflict(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return postgres.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                        || (postgres.SqlState == PostgresErrorCodes.InternalError
                            && postgres.MessageText.StartsWith("new multixact has more than one updating member", StringComparison.Ordinal));
                case SqliteException sqlite when sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked:
                    return true;
            }
        }

        return false;
    }
}
