namespace Emporium.Features.Catalog.Variants;

/// <summary>
/// Units of a variant sold and not yet shipped: taken from on hand when their order was placed, still on the shelf until
/// it is fulfilled (or back in stock when it is cancelled). A shelf count less these is what may still be sold. The
/// orders that hold them are commerce's; this is what the catalog needs to know of them.
/// </summary>
public interface IUnshippedUnits
{
    /// <summary>Units of <paramref name="variantId"/> in orders pending or paid, read in the caller's transaction.</summary>
    Task<int> OfAsync(long variantId, CancellationToken cancellationToken);
}
