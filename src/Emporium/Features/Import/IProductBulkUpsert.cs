using Emporium.Features.Catalog;

namespace Emporium.Features.Import;

/// <summary>
/// The provider-specific heart of an import: writes one batch of products in one statement (or prepared loop),
/// inside the transaction the caller opened on the <c>EmporiumDbContext</c>. Implementations live in
/// Infrastructure/Persistence/BulkUpsert.
/// </summary>
public interface IProductBulkUpsert
{
    /// <summary>
    /// How many connections may write an import's batches at once: a server runs each on its own backend, in parallel; an
    /// embedded database has one writer at a time.
    /// </summary>
    int MaxWriters { get; }

    /// <summary>
    /// Readies the database connection for a whole import (the batches' transactions all run on it); disposing the result
    /// puts it back as it was. An embedded database may hold one connection open with a bigger page cache, since an
    /// import's index writes land all over several indexes at once; a server holds it open with a lock timeout.
    /// </summary>
    /// <param name="lockTimeout">
    /// How long a statement of the import may wait for a row lock another transaction holds (Import:LockTimeout); a server
    /// fails the statement then. An embedded database has one writer and its own busy timeout.
    /// </param>
    Task<IAsyncDisposable> BeginImportAsync(TimeSpan lockTimeout, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts rows whose SKU key is new (owned by <paramref name="scope"/>'s user) and updates (and restores, when
    /// soft-deleted) rows whose supplied fields differ, if the scope reaches the stored product: a seller's row never
    /// changes another owner's product, even one created after the importer looked. A present categories column replaces
    /// each reached product's category links. Rows must be unique by <see cref="ImportRow.SkuKey"/>; rows marked
    /// <see cref="ImportRow.Unchanged"/> are not written (their categories still are). Returns the rows that were written
    /// and those found out of reach; the others were unchanged and keep their updated_at and version.
    /// </summary>
    Task<IReadOnlyList<UpsertedProduct>> UpsertAsync(
        IReadOnlyList<ImportRow> rows, ImportColumns columns, CatalogScope scope, DateTime now, CancellationToken cancellationToken);
}

public readonly record struct UpsertedProduct(string SkuKey, long Id, UpsertOutcome Outcome);

public enum UpsertOutcome
{
    Created,
    Updated,

    /// <summary>Another owner's product, created after the look-ahead: a seller's row that was left alone.</summary>
    OutOfReach,
}
