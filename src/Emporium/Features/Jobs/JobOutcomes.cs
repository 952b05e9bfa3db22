using Emporium.Features.Events;

namespace Emporium.Features.Jobs;

/// <summary>
/// Records a job's final status and, when its kind announces that outcome (<see cref="IJobOutcomeEvents"/>), the event
/// in the same transaction: an import is COMPLETED exactly when its import.completed event exists.
/// </summary>
internal sealed class JobOutcomes(EmporiumDbContext db, IJobStore store, IEventOutbox outbox, IServiceProvider services)
{
    public IJobStore Store => store;

    /// <summary>Runs <paramref name="record"/> (a status write guarded by the lease; 0 rows when the lease was lost) with its event.</summary>
    public async Task<int> RecordAsync(long jobId, string kind, JobStatus outcome, Func<IJobStore, Task<int>> record)
    {
        var eventType = EventTypeFor(kind, outcome);
        if (eventType is null)
        {
            return await record(store);
        }

        await using var transaction = await db.Database.BeginTransactionAsync();
        var changed = await record(store);
        if (changed > 0)
        {
            var job = await db.Set<Job>().AsNoTracking().FirstAsync(j => j.Id == jobId);
            outbox.Add(eventType, JobResponse.From(job));
            await db.SaveChangesAsync();
        }

        await transaction.CommitAsync();
        return changed;
    }

    private string? EventTypeFor(string kind, JobStatus outcome)
    {
        if (outcome is not (JobStatus.COMPLETED or JobStatus.FAILED or JobStatus.DEAD))
        {
            return null;
        }

        // Only this kind's handler is built; outcomes are rare next to the work they end.
        var announcer = services.GetKeyedService<IJobHandler>(kind) as IJobOutcomeEvents;
        return outcome == JobStatus.COMPLETED ? announcer?.CompletedEventType : announcer?.FailedEventType;
    }
}
