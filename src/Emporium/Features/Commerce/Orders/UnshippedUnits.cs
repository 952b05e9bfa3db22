using Emporium.Features.Catalog.Variants;

namespace Emporium.Features.Commerce.Orders;

/// <summary>The units of orders placed and neither fulfilled nor cancelled: still on the shelf, already sold.</summary>
internal sealed class UnshippedUnits(EmporiumDbContext db) : IUnshippedUnits
{
    public async Task<int> OfAsync(long variantId, CancellationToken cancellationToken) =>
        await db.Set<OrderLine>()
            .Where(l => l.VariantId == variantId
                && db.Set<Order>().Any(o => o.Id == l.OrderId && (o.Status == OrderStatus.Pending || o.Status == OrderStatus.Paid)))
            .SumAsync(l => (int?)l.Quantity, cancellationToken) ?? 0;
}
