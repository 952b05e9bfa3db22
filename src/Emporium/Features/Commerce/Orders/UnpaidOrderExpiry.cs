using Emporium.Features.Events;
using Emporium.Platform.Workers;

namespace Emporium.Features.Commerce.Orders;

/// <summary>
/// Cancels, every Commerce:UnpaidOrderSweepInterval in worker processes, the orders still pending (unpaid)
/// Commerce:UnpaidOrderLifetime after they were placed, and puts their units back into stock: an order nobody pays would
/// otherwise hold its stock for good. Each order in its own transaction, as a cancellation by staff; one paid meanwhile
/// is left alone (the move is guarded by the status). Several workers at once are harmless.
/// </summary>
internal sealed class UnpaidOrderExpiry(
    IServiceScopeFactory scopes,
    IOptions<CommerceOptions> options,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ITransientConflicts conflicts,
    ILogger<UnpaidOrderExpiry> logger)
    : PeriodicSweep(emporium, clock, logger, "unpaid orders past Commerce:UnpaidOrderLifetime", done: "Cancelled")
{
    private const int Chunk = 100;
    private const int Attempts = 5;

    protected override TimeSpan Interval => options.Value.UnpaidOrderSweepInterval;

    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var lifetime = options.Value.UnpaidOrderLifetime;
        if (lifetime == TimeSpan.Zero)
        {
            return 0;
        }

        var cancelled = 0;
        var after = 0L;
        while (true)
        {
            var cutoff = Clock.GetUtcNow().UtcDateTime - lifetime;
            List<long> due;
            await using (var scope = scopes.CreateAsyncScope())
            {
                due = await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().Set<Order>()
                    .Where(o => o.Status == OrderStatus.Pending && o.CreatedAt < cutoff && o.Id > after)
                    .OrderBy(o => o.Id).Select(o => o.Id).Take(Chunk).ToListAsync(cancellationToken);
            }

            foreach (var id in due)
            {
                cancelled += await CancelAsync(id, lifetime, cancellationToken) ? 1 : 0;
            }

            if (due.Count < Chunk)
            {
                return cancelled;
            }

            after = due[^1];
        }
    }

    private Task<bool> CancelAsync(long id, TimeSpan lifetime, CancellationToken cancellationToken) =>
        conflicts.RetryAsync(
            async () =>
            {
                // A new scope each run: nothing of a lost one is tracked.
                await using var scope = scopes.CreateAsyncScope();
                var services = scope.ServiceProvider;
                return await OrderTransitions.MoveAsync(
                    services.GetRequiredService<EmporiumDbContext>(), services.GetRequiredService<IEventOutbox>(), id, [OrderStatus.Pending],
                    OrderStatus.Cancelled, actor: null, $"order {id} unpaid for {lifetime:c} (Commerce:UnpaidOrderLifetime)",
                    Clock.GetUtcNow().UtcDateTime, cancellationToken) is not null;
            },
            Attempts,
            Clock,
            cancellationToken);
}
