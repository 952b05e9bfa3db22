using System.Data.Common;
using System.Runtime.CompilerServices;
using Emporium.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Emporium.Infrastructure.Jobs;

/// <summary>
/// The "after commit" half of the outbox: jobs added to a DbContext are published to the transport once the
/// change that holds them is committed, never before (a worker could not see the row yet) and never for a
/// rollback. A SaveChanges outside an explicit transaction has committed when SavedChanges runs; inside one,
/// the ids wait for TransactionCommitted on that context.
/// </summary>
public sealed class JobSignalInterceptor(IJobTransport transport) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private sealed class Pending
    {
        public List<Job> Saving { get; } = [];

        public List<long> AwaitingCommit { get; } = [];
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
    }

    private void Saved(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending) || pending.Saving.Count == 0)
        {
            return;
        }

        var ids = pending.Saving.Select(job => job.Id).ToList();
        pending.Saving.Clear();
        if (context.Database.CurrentTransaction is null)
        {
            transport.Publish(ids);
        }
        else
        {
            pending.AwaitingCommit.AddRange(ids);
        }
    }

    private void Committed(DbContext? context)
    {
        // EF's own SaveChanges transaction commits before SavedChanges; only an explicit one has ids waiting.
        if (context is null || !_pending.TryGetValue(context, out var pending) || pending.AwaitingCommit.Count == 0)
        {
            return;
        }

        var ids = pending.AwaitingCommit.ToList();
        pending.AwaitingCommit.Clear();
        transport.Publish(ids);
    }

    private void Forget(DbContext? context)
    {
        if (context is not null && _pending.TryGetValue(context, out var pending))
        {
            pending.Saving.Clear();
            pending.AwaitingCommit.Clear();
        }
    }
}
