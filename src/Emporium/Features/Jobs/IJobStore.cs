namespace Emporium.Features.Jobs;

/// <summary>
/// Tells workers that jobs may be ready. Only a hint: the job row is the truth and workers also poll
/// (Jobs:PollInterval), so a lost signal delays a job by at most one poll and a spurious one costs one query.
/// </summary>
public interface IJobTransport
{
    void Publish(IReadOnlyCollection<long> jobIds);

    /// <summary>Completes when something was published, or after <paramref name="timeout"/>.</summary>
    Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>A job as claimed by one worker; <see cref="Progress"/> carries the checkpoint an earlier attempt saved, if any.</summary>
public sealed record ClaimedJob(
    long Id, string Kind, string Payload, int Attempts, int MaxAttempts, bool CancelRequested, string? Progress = null, string? TraceParent = null)
{
    /// <summary>When the claim's lease ends unless renewed (set by the runner that claimed it).</summary>
    public DateTime? LeaseEndsAt { get; init; }
}

/// <summary>
/// The runner's writes to the jobs table (implemented per database by the infrastructure: the claim differs). Every write
/// after the claim is guarded by the lease (id, lease owner, attempt, PROCESSING), so a worker that lost its lease changes
/// nothing.
/// </summary>
public interface IJobStore
{
    /// <summary>The same store on <paramref name="context"/>, so a write joins that context's transaction (a handler's checkpoint).</summary>
    IJobStore On(EmporiumDbContext context);

    /// <summary>Claims the next due job of a kind <paramref name="kinds"/> takes, oldest first; null when there is none.</summary>
    Task<ClaimedJob?> ClaimAsync(string owner, DateTime now, TimeSpan lease, JobKinds kinds, CancellationToken cancellationToken);

    Task<IReadOnlyList<(long Id, string Kind, bool CancelRequested)>> FindExpiredLastAttemptsAsync(DateTime now, CancellationToken cancellationToken);

    Task<int> BuryAsync(long id, bool cancelRequested, DateTime now, CancellationToken cancellationToken);

    Task<bool?> HeartbeatAsync(long id, string owner, int attempt, DateTime now, TimeSpan lease, CancellationToken cancellationToken);

    Task<int> SaveProgressAsync(long id, string owner, int attempt, string progress, DateTime now, CancellationToken cancellationToken);

    Task<int> SaveProgressAndExtendLeaseAsync(long id, string owner, int attempt, string progress, DateTime now, TimeSpan lease, CancellationToken cancellationToken);

    Task<int> CompleteAsync(long id, string owner, int attempt, string? result, string? progress, DateTime now);

    /// <param name="unlessCancelRequested">Writes nothing (0) when a cancel was requested meanwhile: the caller records that instead.</param>
    Task<int> FinishAsync(long id, string owner, int attempt, JobStatus status, string? error, DateTime now, bool unlessCancelRequested = false);

    /// <param name="unlessCancelRequested">Writes nothing (0) when a cancel was requested meanwhile: the caller records that instead.</param>
    Task<int> ScheduleRetryAsync(long id, string owner, int attempt, string error, DateTime nextRunAt, DateTime now, bool unlessCancelRequested = false);

    Task<int> ReleaseAsync(long id, string owner, int attempt, DateTime now);
}
