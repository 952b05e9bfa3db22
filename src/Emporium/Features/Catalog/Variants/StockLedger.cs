using Emporium.Features.Catalog.Caching;
using Emporium.Features.Events;

namespace Emporium.Features.Catalog.Variants;

/// <summary>
/// The only code that changes stock (decision 0016): guarded updates that never read a level and write it back, each
/// recorded as a movement with its stock.changed event in the caller's transaction. The CHECK on variants.on_hand is the
/// last line of defence; these guards keep a refused change from ever reaching it.
/// </summary>
internal static class StockLedger
{
    /// <summary>Who and what a change is recorded with.</summary>
    public sealed record Cause(string Reason, long? UserId, long? OrderId, DateTime At);

    /// <summary>
    /// Adds <paramref name="delta"/> to the variant's stock unless that would take it below 0 or, adding, above the cap (a
    /// level a cancellation took past the cap still sells: units going out are never capped); the recorded
    /// movement, or null when the guard refused (short, or the variant is deleted) and nothing changed. Units may go back
    /// into a deleted variant (a cancelled order's), never out of one.
    /// </summary>
    /// <param name="save">False leaves the movement and its event to the caller's next SaveChanges (several lines, one round trip).</param>
    /// <param name="returned">
    /// Units that were on hand before (a cancelled order's) go back whole, past the cap if a count raised the level to it
    /// meanwhile: the cap bounds what a person enters, and refusing would lose them silently.
    /// </param>
    /// <param name="seenVersion">The version the caller's If-Match named: any change since refuses the adjustment too.</param>
    public static async Task<StockMovement?> AdjustAsync(
        EmporiumDbContext db, IEventOutbox events, long variantId, int delta, Cause cause, CancellationToken cancellationToken, bool save = true,
        bool returned = false, int? seenVersion = null)
    {
        var changed = await db.Set<Variant>()
            .Where(v => v.Id == variantId && (seenVersion == null || v.Version == seenVersion)
                        && (v.DeletedAt == null || delta > 0) && v.OnHand + delta >= 0
                        && (returned || delta < 0 || v.OnHand + delta <= VariantLimits.MaxOnHand))
            .ExecuteUpdateAsync(set => set
                .SetProperty(v => v.OnHand, v => v.OnHand + delta)
                .SetProperty(v => v.UpdatedAt, cause.At)
                .SetProperty(v => v.Version, v => v.Version + 1), cancellationToken);
        if (changed == 0)
        {
            return null;
        }

        var movement = await RecordAsync(db, events, variantId, delta, cause, cancellationToken);
        if (save)
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return movement;
    }

    /// <summary>
    /// Sets the live variant's stock to <paramref name="onHand"/> (a count on the shelf): a compare-and-set on the version
    /// it read, so the movement's delta is exactly what this write changed. Without <paramref name="seenVersion"/> a
    /// concurrent change that came first is read again and the count still wins; with it, any change since that version
    /// refuses the write (Applied false). Movement null when the level already was <paramref name="onHand"/>. Throws
    /// <see cref="KeyNotFoundException"/> when the variant is gone.
    /// </summary>
    public static async Task<(bool Applied, StockMovement? Movement)> SetAsync(
        EmporiumDbContext db, IEventOutbox events, long variantId, int onHand, int? seenVersion, Cause cause, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await db.Set<Variant>().AsNoTracking()
                .Where(v => v.Id == variantId && v.DeletedAt == null)
                .Select(v => new { v.OnHand, v.Version })
                .FirstOrDefaultAsync(cancellationToken) ?? throw new KeyNotFoundException($"Variant {variantId} is gone.");
            if (seenVersion is { } seen && seen != current.Version)
            {
                return (false, null);
            }

            if (current.OnHand == onHand)
            {
                return (true, null);
            }

            var changed = await db.Set<Variant>()
                .Where(v => v.Id == variantId && v.DeletedAt == null && v.Version == current.Version)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(v => v.OnHand, onHand)
                    .SetProperty(v => v.UpdatedAt, cause.At)
                    .SetProperty(v => v.Version, v => v.Version + 1), cancellationToken);
            if (changed == 1)
            {
                var movement = await RecordAsync(db, events, variantId, onHand - current.OnHand, cause, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
                return (true, movement);
            }
        }
    }

    /// <summary>
    /// Adds the movement and its event for a change just made (saved by the caller); the level is read back inside the same
    /// transaction.
    /// </summary>
    private static async Task<StockMovement> RecordAsync(
        EmporiumDbContext db, IEventOutbox events, long variantId, int delta, Cause cause, CancellationToken cancellationToken)
    {
        var variant = await db.Set<Variant>().AsNoTracking()
            .Where(v => v.Id == variantId)
            .Select(v => new { v.OnHand, v.Sku, v.ProductId })
            .FirstAsync(cancellationToken);
        // Saved by the caller's SaveChanges, and superseded when it commits.
        db.ProductChanged(variant.ProductId);
        var movement = new StockMovement
        {
            VariantId = variantId,
            Delta = delta,
            OnHand = variant.OnHand,
            Reason = cause.Reason,
            UserId = cause.UserId,
            OrderId = cause.OrderId,
            CreatedAt = cause.At,
        };
        db.Set<StockMovement>().Add(movement);
        events.Add(EventTypes.StockChanged, new StockChanged(variantId, variant.ProductId, variant.Sku, variant.OnHand, delta, cause.Reason, cause.OrderId));
        return movement;
    }
}
