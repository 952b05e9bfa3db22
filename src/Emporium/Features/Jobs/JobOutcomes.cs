using Emporium.Features.Events;

namespace Emporium.Features.Jobs;

/// <summary>
/// Records a job's final status and, in the same transaction, what its kind ties to it: the event when the kind announces
/// that outcome (<see cref="IJobOutcomeEvents"/>), so an import is COMPLETED exactly when its import.completed event
/// exists, and the handler's own record of a failure (<see cref="IJobFailureRecorder"/>), so an image is FAILED exactly when
/// its job is FAILED, DEAD or CANCELLED (and can be retried, rather than waiting for a job that will never run).
/// </summary>
internal sealed class JobOutcomes(EmporiumDbContext db, IJobStore store, IEventOutbox outbox, IServiceProvider services, Platform.Telemetry.EmporiumMetrics metrics)
{
    public IJobStore Store => store;

    /// <summary>Runs <paramref name="record"/> (a status write guarded by the lease; 0 rows when the lease was lost) with its event.</summary>
    public async Task<int> RecordAsync(long jobId, string kind, JobStatus outcome, Func<IJobStore, Task<int>> record)
    {
        var changed = await RecordWithOutcomeAsync(jobId, kind, outcome, record);
        if (changed > 0 && outcome is JobStatus.COMPLETED or JobStatus.FAILED or JobStatus.DEAD)
        {
            metrics.JobFinished(kind, outcome.ToString().ToLowerInvariant());
        }

        return changed;
    }

    private async Task<int> RecordWithOutcomeAsync(long jobId, string kind, JobStatus outcome, Func<IJobStore, Task<int>> record)
    {
        if (outcome is not (JobStatus.COMPLETED or JobStatus.FAILED or JobStatus.DEAD or JobStatus.CANCELLED))
        {
            return await record(store);
        }

        // Only this kind's handler is built; outcomes are rare next to the work they end.
        var handler = services.GetKeyedService<IJobHandler>(kind);
        var announcer = handler as IJobOutcomeEvents;
        var eventType = outcome switch
        {
            JobStatus.COMPLETED => announcer?.CompletedEventType,
            JobStatus.CANCELLED => null,
            _ => announcer?.FailedEventType,
        };
        var recorder = outcome == JobStatus.COMPLETED ? null : handler as IJobFailureRecorder;
        if (eventType is null && recorder is null)
        {
            return await record(store);
        }

        await using var transaction = await db.Database.BeginTransactionAsync();
        var changed = await record(store);
        if (changed > 0)
        {
            var job = await db.Set<Job>().AsNoTracking().FirstAsync(j => j.Id == jobId);
            if (recorder is not null)
            {
                await recorder.RecordFailureAsync(job, CancellationToken.None);
            }

            if (eventType is not null)
            {
                outbox.Add(eventType, JobResponse.From(job));
            }

            await db.SaveChangesAsync();
        }

        await transaction.CommitAsync();
        return changed;
    }
}
