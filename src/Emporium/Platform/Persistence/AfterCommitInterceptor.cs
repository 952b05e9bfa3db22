using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Emporium.Platform.Persistence;

/// <summary>
/// Work that must follow a commit, never come before it and never follow a rollback (publishing jobs, superseding
/// cached reads). What a SaveChanges is about to write is collected before it runs; once it has run, the work is done
/// at once outside an explicit transaction (SaveChanges has committed) or waits for that transaction's commit. A failed
/// save forgets what it collected; a rollback forgets everything waiting.
/// </summary>
public abstract class AfterCommitInterceptor : SaveChangesInterceptor, IDbTransactionInterceptor
{
    /// <summary>Notes what the save about to run will write.</summary>
    protected abstract void Collect(DbContext context);

    /// <summary>The save ran: its work is done now outside a transaction, or kept for the commit inside one.</summary>
    protected abstract ValueTask SavedAsync(DbContext context);

    /// <summary>The explicit transaction committed: the work kept for it is done.</summary>
    protected abstract ValueTask CommittedAsync(DbContext context);

    /// <summary>The save failed: what it collected is not written.</summary>
    protected abstract void ForgetSaving(DbContext context);

    /// <summary>The transaction rolled back: nothing collected or kept is written.</summary>
    protected abstract void Forget(DbContext context);

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context)
        {
            Collect(context);
        }

        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        SavingChanges(eventData, result);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context is { } context)
        {
            SavedAsync(context).AsTask().GetAwaiter().GetResult();
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context)
        {
            await SavedAsync(context);
        }

        return result;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            ForgetSaving(context);
        }
    }

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesFailed(eventData);
        return Task.CompletedTask;
    }

    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            CommittedAsync(context).AsTask().GetAwaiter().GetResult();
        }
    }

    async Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        if (eventData.Context is { } context)
        {
            await CommittedAsync(context);
        }
    }

    void IDbTransactionInterceptor.TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            Forget(context);
        }
    }

    Task IDbTransactionInterceptor.TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        ((IDbTransactionInterceptor)this).TransactionRolledBack(transaction, eventData);
        return Task.CompletedTask;
    }
}
