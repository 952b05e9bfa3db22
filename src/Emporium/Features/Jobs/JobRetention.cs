using Emporium.Platform.Workers;

namespace Emporium.Features.Jobs;

/// <summary>
/// Deletes, every Jobs:RetentionSweepInterval in worker processes, the jobs that ended more than Jobs:RetainFor ago (every
/// order, image, import and bulk delete leaves one, with its payload and progress) and the rows of worker processes silent
/// that long (each start adds one). In chunks, so a first sweep over years of rows holds no long transaction; several
/// workers sweeping at once is harmless.
/// </summary>
internal sealed partial class JobRetention(
    IServiceScopeFactory scopes,
    IOptions<JobsOptions> settings,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<JobRetention> logger) : PeriodicSweep(emporium, clock)
{
    private const int ChunkSize = 1_000;

    private static readonly JobStatus[] Ended = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.DEAD, JobStatus.CANCELLED];

    protected override TimeSpan Interval => settings.Value.RetentionSweepInterval;

    protected override void OnSwept(int count) => LogSwept(count, settings.Value.RetainFor);

    protected override void OnFailed(Exception exception) => LogSweepFailed(exception);

    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - settings.Value.RetainFor;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        var deleted = 0;
        while (true)
        {
            var ids = await db.Set<Job>().AsNoTracking()
                .Where(j => Ended.Contains(j.Status) && j.FinishedAt < cutoff)
                .OrderBy(j => j.Id)
                .Select(j => j.Id)
                .Take(ChunkSize)
                .ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                break;
            }

            // Checked again in the delete: a job retried meanwhile is no longer ended.
            deleted += await db.Set<Job>()
                .Where(j => ids.Contains(j.Id) && Ended.Contains(j.Status) && j.FinishedAt < cutoff)
                .ExecuteDeleteAsync(cancellationToken);
            if (ids.Count < ChunkSize)
            {
                break;
            }
        }

        return deleted + await db.Set<Workers.WorkerProcess>().Where(w => w.HeartbeatAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} jobs and worker rows that ended more than {Retention} ago")]
    private partial void LogSwept(int count, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting old jobs failed; the next run tries again")]
    private partial void LogSweepFailed(Exception exception);
}
