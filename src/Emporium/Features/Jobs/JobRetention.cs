using Emporium.Platform.Workers;

namespace Emporium.Features.Jobs;

/// <summary>
/// Deletes, every Jobs:RetentionSweepInterval in worker processes, the jobs that ended more than Jobs:RetainFor ago (every
/// order, image, import and bulk delete leaves one, with its payload and progress) and the rows of worker processes silent
/// that long (each start adds one). In chunks, so a first sweep over years of rows holds no long transaction; several
/// workers sweeping at once is harmless.
/// </summary>
internal sealed class JobRetention(
    IServiceScopeFactory scopes,
    IOptions<JobsOptions> settings,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<JobRetention> logger) : PeriodicSweep(emporium, clock, logger, "jobs and worker rows past Jobs:RetainFor")
{
    private static readonly JobStatus[] Ended = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.DEAD, JobStatus.CANCELLED];

    protected override TimeSpan Interval => settings.Value.RetentionSweepInterval;

    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - settings.Value.RetainFor;
        // Checked again as each chunk is deleted: a job retried meanwhile is no longer ended.
        var jobs = await DeleteInChunksAsync<Job>(scopes, j => Ended.Contains(j.Status) && j.FinishedAt < cutoff, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        return jobs + await db.Set<Workers.WorkerProcess>().Where(w => w.HeartbeatAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}
