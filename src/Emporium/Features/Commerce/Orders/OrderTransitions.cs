using Emporium.Features.Catalog.Variants;
using Emporium.Features.Events;

namespace Emporium.Features.Commerce.Orders;

/// <summary>An order's move from one status to the next, for the endpoints and for the expiry of unpaid orders.</summary>
internal static class OrderTransitions
{
    /// <summary>
    /// A transition as one guarded UPDATE (the status must still be one of <paramref name="from"/>), with its event and, for a
    /// cancellation, the units back into stock (recorded with <paramref name="reason"/>), in one transaction; the order as
    /// it now is, or null when its status was not one of <paramref name="from"/> and nothing changed.
    /// </summary>
    public static async Task<OrderResponse?> MoveAsync(
        EmporiumDbContext db, IEventOutbox events, long id, OrderStatus[] from, OrderStatus to, long? actor, string? reason, DateTime now,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var moved = await db.Set<Order>()
            .Where(o => o.Id == id && from.Contains(o.Status))
            .ExecuteUpdateAsync(set => set
                .SetProperty(o => o.Status, to)
                .SetProperty(o => o.UpdatedAt, now)
                .SetProperty(o => o.PaidAt, o => to == OrderStatus.Paid ? now : o.PaidAt)
                .SetProperty(o => o.FulfilledAt, o => to == OrderStatus.Fulfilled ? now : o.FulfilledAt)
                .SetProperty(o => o.CancelledAt, o => to == OrderStatus.Cancelled ? now : o.CancelledAt)
                .SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
        if (moved == 0)
        {
            return null;
        }

        var order = await db.Set<Order>().AsNoTracking().Include(o => o.Lines).FirstAsync(o => o.Id == id, cancellationToken);
        if (to == OrderStatus.Cancelled)
        {
            var cause = new StockLedger.Cause(reason ?? $"order {id} cancelled", actor, id, now);
            foreach (var line in order.Lines.OrderBy(l => l.VariantId))
            {
                await StockLedger.AdjustAsync(db, events, line.VariantId, line.Quantity, cause, cancellationToken, save: false, returned: true);
            }
        }

        var response = OrderResponse.From(order);
        events.Add(to switch
        {
            OrderStatus.Paid => EventTypes.OrderPaid,
            OrderStatus.Fulfilled => EventTypes.OrderFulfilled,
            _ => EventTypes.OrderCancelled,
        }, response);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return response;
    }
}
