using System.Collections.Concurrent;

namespace Emporium.Features.Catalog.Caching;

/// <summary>
/// The versions a cached product entry is built at (decision 0019): the product's own, which every write to it raises, and
/// the catalog's, which writes that reach many products raise (taxonomy renames and deletes, imports, bulk deletes). An
/// entry is keyed by both, so a write supersedes every older entry everywhere the moment its stamp is raised.
/// </summary>
public readonly record struct CatalogStamp(long Product, long Catalog);

/// <summary>Where the stamps live: in the process (one API process) or in Redis (many).</summary>
public interface ICatalogStamps
{
    /// <summary>The product's current stamp; null when the store cannot be reached, and the read must not use the cache.</summary>
    ValueTask<CatalogStamp?> ReadAsync(long productId, CancellationToken cancellationToken);

    /// <summary>The catalog's current stamp (lists of brands, categories and attributes are keyed by it); null as above.</summary>
    ValueTask<long?> ReadCatalogAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Raises the stamps of <paramref name="productIds"/>, and the catalog's when <paramref name="everything"/>; answers the
    /// stamps they had before (for removing the entries they supersede). Never throws: a store that cannot be reached is
    /// remembered and the whole catalog superseded once it is back.
    /// </summary>
    ValueTask<IReadOnlyList<(long ProductId, CatalogStamp Before)>> RaiseAsync(
        IReadOnlyCollection<long> productIds, bool everything, CancellationToken cancellationToken);
}

/// <summary>Stamps of one process, for the Memory provider.</summary>
public sealed class InProcessCatalogStamps : ICatalogStamps
{
    private readonly ConcurrentDictionary<long, long> _products = new();
    private long _catalog;

    public ValueTask<CatalogStamp?> ReadAsync(long productId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<CatalogStamp?>(new CatalogStamp(_products.GetValueOrDefault(productId), Volatile.Read(ref _catalog)));

    public ValueTask<long?> ReadCatalogAsync(CancellationToken cancellationToken) => ValueTask.FromResult<long?>(Volatile.Read(ref _catalog));

    public ValueTask<IReadOnlyList<(long ProductId, CatalogStamp Before)>> RaiseAsync(
        IReadOnlyCollection<long> productIds, bool everything, CancellationToken cancellationToken)
    {
        var catalog = everything ? Interlocked.Increment(ref _catalog) - 1 : Volatile.Read(ref _catalog);
        var before = new List<(long, CatalogStamp)>(productIds.Count);
        foreach (var id in productIds)
        {
            before.Add((id, new CatalogStamp(_products.AddOrUpdate(id, 1, (_, stamp) => stamp + 1) - 1, catalog)));
        }

        return ValueTask.FromResult<IReadOnlyList<(long, CatalogStamp)>>(before);
    }
}
