using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// Provider errors that mean "the client collided with existing data", so features can answer 409 instead of 500, and
/// those that mean "the database cannot be reached now", so the API answers 503 with Retry-After instead of 500.
/// </summary>
public sealed class DbErrors : Platform.Problems.IUnavailableDependencies
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    /// <summary>
    /// True when a unique index or key rejected the write: a check-then-write lost a race against another request.
    /// </summary>
    public static bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException switch
        {
            SqliteException sqlite => sqlite.SqliteErrorCode == SqliteConstraint
                                      && sqlite.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
            PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
            _ => false,
        };

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
                        or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections:
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
}
