using System.Runtime.CompilerServices;
using Emporium.Features.Events;
using Emporium.Features.Jobs;
using Emporium.Platform.Persistence;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The "after commit" half of the outboxes: jobs added to a DbContext are published to the transport, and the event
/// signal is told about added events, once the change that holds them is committed, never before (a worker could not
/// see the row yet) and never for a rollback. A SaveChanges outside an explicit transaction has committed when
/// SavedChanges runs; inside one, they wait for TransactionCommitted on that context.
/// </summary>
public sealed class OutboxSignalInterceptor(IJobTransport transport, IEventsWrittenSignal events) : AfterCommitInterceptor
{
    private sealed class Pending
    {
        public List<Job> Saving { get; } = [];

        public List<long> AwaitingCommit { get; } = [];

        public bool EventsSaving { get; set; }

        public bool EventsAwaitingCommit { get; set; }
    }

    private readonly ConditionalWeakTable<DbContext, Pending> _pending = [];

    protected override void Collect(DbContext context)
    {
        var added = context.ChangeTracker.Entries<Job>().Where(entry => entry.State == EntityState.Added).Select(entry => entry.Entity).ToList();
        if (added.Count > 0)
        {
            _pending.GetOrCreateValue(context).Saving.AddRange(added);
        }

        if (context.ChangeTracker.Entries<OutboxEvent>().Any(entry => entry.State == EntityState.Added))
        {
            _pending.GetOrCreateValue(context).EventsSaving = true;
        }
    }

    protected override ValueTask SavedAsync(DbContext context)
    {
        if (!_pending.TryGetValue(context, out var pending))
        {
            return ValueTask.CompletedTask;
        }

        var ids = pending.Saving.Select(job => job.Id).ToList();
        var eventsSaved = pending.EventsSaving;
        pending.Saving.Clear();
        pending.EventsSaving = false;
        if (context.Database.CurrentTransaction is null)
        {
            Signal(ids, eventsSaved);
        }
        else
        {
            pending.AwaitingCommit.AddRange(ids);
            pending.EventsAwaitingCommit |= eventsSaved;
        }

        return ValueTask.CompletedTask;
    }

    protected override ValueTask CommittedAsync(DbContext context)
    {
        // EF's own SaveChanges transaction commits before SavedChanges; only an explicit one has work waiting.
        if (!_pending.TryGetValue(context, out var pending))
        {
            return ValueTask.CompletedTask;
        }

        var ids = pending.AwaitingCommit.ToList();
        var eventsCommitted = pending.EventsAwaitingCommit;
        pending.AwaitingCommit.Clear();
        pending.EventsAwaitingCommit = false;
        Signal(ids, eventsCommitted);
        return ValueTask.CompletedTask;
    }

    private void Signal(List<long> jobIds, bool eventsWritten)
    {
        if (jobIds.Count > 0)
        {
            transport.Publish(jobIds);
        }

        if (eventsWritten)
        {
            events.EventsWritten();
        }
    }

    /// <summary>
    /// A failed save inside a transaction is the end of that transaction in practice (a checkout attempt that met a
    /// conflict), and one disposed without a rollback raises no event: what it kept for its commit is forgotten too, so a
    /// later transaction's commit on the same context never publishes jobs that were rolled back.
    /// </summary>
    protected override void ForgetSaving(DbContext context) => Forget(context);

    protected override void Forget(DbContext context)
    {
        if (_pending.TryGetValue(context, out var pending))
        {
            pending.Saving.Clear();
            pending.EventsSaving = false;
            pending.AwaitingCommit.Clear();
            pending.EventsAwaitingCommit = false;
        }
    }
}
