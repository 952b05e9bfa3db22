using System.Data.Common;
using System.Runtime.CompilerServices;
using Emporium.Features.Events;
using Emporium.Features.Jobs;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The "after commit" half of the outboxes: jobs added to a DbContext are published to the transport, and the event
/// signal is told about added events, once the change that holds them is committed, never before (a worker could not
/// see the row yet) and never for a rollback. A SaveChanges outside an explicit transaction has committed when
/// SavedChanges runs; inside one, they wait for TransactionCommitted on that context.
/// </summary>
public sealed class OutboxSignalInterceptor(IJobTransport transport, IEventsWrittenSignal events) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private sealed class Pending
    {
        public List<Job> Saving { get; } = [];

        public List<long> AwaitingCommit { get; } = [];

        public bool EventsSaving { get; set; }

        public bool EventsAwaitingCommit { get; set; }
    }

    private readonly ConditionalWeakTable<DbContext, Pending> _pending = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Saved(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) =>
        Committed(eventData.Context);

    Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    void IDbTransactionInterceptor.TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) =>
        Forget(eventData.Context);

    Task IDbTransactionInterceptor.TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

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

    private void Saved(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending))
        {
            return;
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
    }

    private void Committed(DbContext? context)
    {
        // EF's own SaveChanges transaction commits before SavedChanges; only an explicit one has work waiting.
        if (context is null || !_pending.TryGetValue(context, out var pending))
        {
            return;
        }

        var ids = pending.AwaitingCommit.ToList();
        var eventsCommitted = pending.EventsAwaitingCommit;
        pending.AwaitingCommit.Clear();
        pending.EventsAwaitingCommit = false;
        Signal(ids, eventsCommitted);
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

    private void Forget(DbContext? context)
    {
        if (context is not null && _pending.TryGetValue(context, out var pending))
        {
            pending.Saving.Clear();
            pending.AwaitingCommit.Clear();
            pending.EventsSaving = false;
            pending.EventsAwaitingCommit = false;
        }
    }
}
