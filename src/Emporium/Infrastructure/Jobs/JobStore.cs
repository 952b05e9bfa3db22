using System.Data.Common;
using Emporium.Features.Jobs;
using Emporium.Infrastructure.Persistence;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The runner's writes to the jobs table. Every write after the claim is guarded by the lease
/// (id, lease_owner, attempts, PROCESSING): a worker that lost its lease changes nothing, even when it took the job
/// again itself (same owner, a later attempt).
/// </summary>
public sealed class JobStore(EmporiumDbContext db) : IJobStore
{
    // The next due job: PENDING and due, or PROCESSING with an expired lease and attempts left. PostgreSQL: SKIP LOCKED lets
    // several workers claim different rows at once without waiting on each other, and FOR UPDATE re-checks the WHERE on
    // the row's latest version, so two workers never take one job. SQLite has one writer at a time: the UPDATE is exclusive.
    private const string Claim = """
        UPDATE jobs
        SET status = 'PROCESSING', lease_owner = @owner, lease_expires_at = @expires, attempts = attempts + 1,
            started_at = @now, finished_at = NULL, updated_at = @now
        WHERE id = (
            SELECT id FROM jobs
            WHERE ((status = 'PENDING' AND next_run_at <= @now)
               OR (status = 'PROCESSING' AND lease_expires_at < @now AND attempts < max_attempts)){1}
            ORDER BY next_run_at, id
            LIMIT 1 {0})
        RETURNING id, kind, payload, attempts, max_attempts, cancel_requested, progress, trace_parent
        """;

    private static readonly string PostgresClaim = Claim.Replace("{0}", "FOR UPDATE SKIP LOCKED", StringComparison.Ordinal);

    private static readonly string SqliteClaim = Claim.Replace("{0}", "", StringComparison.Ordinal);

    /// <summary>
    /// The claim limited to <paramref name="kinds"/>: Jobs:Kinds as LIKE conditions, and the kinds this process handles, with
    /// their parameters.
    /// </summary>
    private static (string Sql, List<(string Name, object Value)> Parameters) ClaimOf(string claim, JobKinds kinds)
    {
        var parameters = new List<(string Name, object Value)>();
        string Like(string pattern)
        {
            parameters.Add(($"kind{parameters.Count}", JobKinds.ToLike(pattern)));
            return $"kind LIKE @kind{parameters.Count - 1} ESCAPE '\\'";
        }

        var filter = "";
        if (kinds.Included.Count > 0)
        {
            filter += $" AND ({string.Join(" OR ", kinds.Included.Select(Like))})";
        }

        if (kinds.Excluded.Count > 0)
        {
            filter += $" AND NOT ({string.Join(" OR ", kinds.Excluded.Select(Like))})";
        }

        if (kinds.Handled.Count > 0)
        {
            parameters.AddRange(kinds.Handled.Select((kind, i) => ($"handled{i}", (object)kind)));
            filter += $" AND kind IN ({string.Join(", ", kinds.Handled.Select((_, i) => $"@handled{i}"))})";
        }

        return (claim.Replace("{1}", filter, StringComparison.Ordinal), parameters);
    }

    // A job whose worker died during its last attempt is not run again: a job that kills its worker every
    // time (out of memory, say) would otherwise be taken again forever.
    private const string ExpiredLastAttempts = """
        SELECT id, kind, cancel_requested FROM jobs
        WHERE status = 'PROCESSING' AND lease_expires_at < @now AND attempts >= max_attempts
        ORDER BY id
        LIMIT 100
        """;

    // A cancel asked for before the worker died is what ends the job (CANCELLED), as it would have at the next heartbeat.
    private const string Bury = """
        UPDATE jobs
        SET status = @status, last_error = @error, cancel_requested = @cleared,
            lease_owner = NULL, lease_expires_at = NULL, finished_at = @now, updated_at = @now
        WHERE id = @id AND status = 'PROCESSING' AND lease_expires_at < @now AND attempts >= max_attempts AND cancel_requested = @cancelled
        """;

    // Never shortens the lease: @expires is computed before the statement waits for its lock (on SQLite, seconds behind
    // back-to-back import batches), and the handler's checkpoints may have extended the lease further meanwhile.
    private const string Heartbeat = """
        UPDATE jobs
        SET lease_expires_at = CASE WHEN lease_expires_at > @expires THEN lease_expires_at ELSE @expires END, updated_at = @now
        WHERE id = @id AND lease_owner = @owner AND attempts = @attempt AND status = 'PROCESSING'
        RETURNING cancel_requested
        """;

    public IJobStore On(EmporiumDbContext context) => new JobStore(context);

    public async Task<ClaimedJob?> ClaimAsync(string owner, DateTime now, TimeSpan lease, JobKinds kinds, CancellationToken cancellationToken)
    {
        var (sql, parameters) = ClaimOf(db.Database.IsNpgsql() ? PostgresClaim : SqliteClaim, kinds);
        parameters.AddRange([("owner", owner), ("now", now), ("expires", now + lease)]);
        await using var command = await db.Database.CommandAsync(sql, cancellationToken, [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new ClaimedJob(
            reader.GetInt64(0),
            reader.GetString(1),
            reader.GetString(2),
            Convert.ToInt32(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt32(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToBoolean(reader.GetValue(5), System.Globalization.CultureInfo.InvariantCulture),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.IsDBNull(7) ? null : reader.GetString(7));
    }

    /// <summary>Jobs whose worker died during their last attempt: <see cref="BuryAsync"/> ends each.</summary>
    public async Task<IReadOnlyList<(long Id, string Kind, bool CancelRequested)>> FindExpiredLastAttemptsAsync(DateTime now, CancellationToken cancellationToken)
    {
        await using var command = await db.Database.CommandAsync(ExpiredLastAttempts, cancellationToken, ("now", now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var found = new List<(long, string, bool)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add((reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2)));
        }

        return found;
    }

    /// <summary>
    /// DEAD (CANCELLED when <paramref name="cancelRequested"/>) for a job found by <see cref="FindExpiredLastAttemptsAsync"/>,
    /// unless something else took it, or a cancel was asked for, since (0: the next round sees it again).
    /// </summary>
    public async Task<int> BuryAsync(long id, bool cancelRequested, DateTime now, CancellationToken cancellationToken)
    {
        var (status, error) = cancelRequested
            ? (JobStatus.CANCELLED, "Cancelled as asked; the worker stopped during the last attempt (its lease expired).")
            : (JobStatus.DEAD, "The worker stopped during the last attempt (its lease expired).");
        return await db.Database.ExecuteAsync(Bury, cancellationToken,
            ("id", id), ("now", now), ("status", status.ToString()), ("error", error), ("cancelled", cancelRequested), ("cleared", false));
    }

    /// <summary>Extends the lease. Null when the lease is lost; otherwise whether a cancel was requested.</summary>
    public async Task<bool?> HeartbeatAsync(long id, string owner, int attempt, DateTime now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = await db.Database.CommandAsync(
            Heartbeat, cancellationToken, ("id", id), ("owner", owner), ("attempt", attempt), ("now", now), ("expires", now + lease));
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? null : Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<int> SaveProgressAsync(long id, string owner, int attempt, string progress, DateTime now, CancellationToken cancellationToken) =>
        Held(id, owner, attempt).ExecuteUpdateAsync(set => set.SetProperty(j => j.Progress, progress).SetProperty(j => j.UpdatedAt, now), cancellationToken);

    /// <summary>
    /// Progress written in the handler's own transaction with the work it records: proof of life, so it extends the lease
    /// as a heartbeat does. On SQLite the heartbeat's separate connection can wait seconds for the write lock while
    /// back-to-back batch transactions hold it; this write already holds it.
    /// </summary>
    public Task<int> SaveProgressAndExtendLeaseAsync(long id, string owner, int attempt, string progress, DateTime now, TimeSpan lease, CancellationToken cancellationToken) =>
        Held(id, owner, attempt).ExecuteUpdateAsync(
            set => set
                .SetProperty(j => j.Progress, progress)
                .SetProperty(j => j.LeaseExpiresAt, (DateTime?)(now + lease))
                .SetProperty(j => j.UpdatedAt, now),
            cancellationToken);

    /// <summary>Done: a cancel asked for too late to stop the work is dropped (cancel_requested is true only while it can).</summary>
    public Task<int> CompleteAsync(long id, string owner, int attempt, string? result, string? progress, DateTime now) =>
        Held(id, owner, attempt).ExecuteUpdateAsync(set => set
            .SetProperty(j => j.Status, JobStatus.COMPLETED)
            .SetProperty(j => j.CancelRequested, false)
            .SetProperty(j => j.Result, result)
            .SetProperty(j => j.Progress, j => progress ?? j.Progress)
            .SetProperty(j => j.LastError, (string?)null)
            .SetProperty(j => j.LeaseOwner, (string?)null)
            .SetProperty(j => j.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(j => j.FinishedAt, now)
            .SetProperty(j => j.UpdatedAt, now));

    /// <summary>FAILED, DEAD or CANCELLED: the job stops here until someone retries it by hand.</summary>
    public Task<int> FinishAsync(long id, string owner, int attempt, JobStatus status, string? error, DateTime now, bool unlessCancelRequested = false) =>
        Held(id, owner, attempt).Where(j => !unlessCancelRequested || !j.CancelRequested).ExecuteUpdateAsync(set => set
            .SetProperty(j => j.Status, status)
            .SetProperty(j => j.CancelRequested, false)
            .SetProperty(j => j.LastError, error)
            .SetProperty(j => j.LeaseOwner, (string?)null)
            .SetProperty(j => j.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(j => j.FinishedAt, now)
            .SetProperty(j => j.UpdatedAt, now));

    public Task<int> ScheduleRetryAsync(long id, string owner, int attempt, string error, DateTime nextRunAt, DateTime now, bool unlessCancelRequested = false) =>
        Held(id, owner, attempt).Where(j => !unlessCancelRequested || !j.CancelRequested).ExecuteUpdateAsync(set => set
            .SetProperty(j => j.Status, JobStatus.PENDING)
            .SetProperty(j => j.LastError, error)
            .SetProperty(j => j.NextRunAt, nextRunAt)
            .SetProperty(j => j.LeaseOwner, (string?)null)
            .SetProperty(j => j.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(j => j.UpdatedAt, now));

    /// <summary>Shutdown: hands the job back at once, without counting the interrupted attempt.</summary>
    public Task<int> ReleaseAsync(long id, string owner, int attempt, DateTime now) =>
        Held(id, owner, attempt).ExecuteUpdateAsync(set => set
            .SetProperty(j => j.Status, JobStatus.PENDING)
            .SetProperty(j => j.Attempts, j => j.Attempts > 0 ? j.Attempts - 1 : 0)
            .SetProperty(j => j.NextRunAt, now)
            .SetProperty(j => j.LeaseOwner, (string?)null)
            .SetProperty(j => j.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(j => j.UpdatedAt, now));

    private IQueryable<Job> Held(long id, string owner, int attempt) =>
        db.Set<Job>().Where(j => j.Id == id && j.LeaseOwner == owner && j.Attempts == attempt && j.Status == JobStatus.PROCESSING);
}
