namespace Emporium.Features.Catalog;

/// <summary>Finding catalog rows by /{ref}, and the guard every write to one starts with.</summary>
internal static class CatalogRows
{
    public static Task<T?> FindAsync<T>(IQueryable<T> rows, string reference, CancellationToken cancellationToken)
        where T : class, ICatalogRow =>
        FindAsync(rows, CatalogRef.Parse(reference), cancellationToken);

    public static Task<T?> FindAsync<T>(IQueryable<T> rows, CatalogRef key, CancellationToken cancellationToken)
        where T : class, ICatalogRow =>
        key.Id is { } id
            ? rows.FirstOrDefaultAsync(row => row.Id == id, cancellationToken)
            : rows.FirstOrDefaultAsync(row => row.Slug == key.Slug, cancellationToken);

    /// <summary>The row to change, or the problem that stops the write: 404 when it does not exist, 412 when If-Match names another version.</summary>
    public static Task<WriteTarget<T>> FindForWriteAsync<T>(
        IQueryable<T> rows, string reference, string notFound, HttpRequest request, CancellationToken cancellationToken)
        where T : class, ICatalogRow
    {
        var (id, slug) = CatalogRef.Parse(reference);
        return id is null
            ? VersionedRows.FindForWriteAsync(rows, row => row.Slug == slug, notFound, request, cancellationToken)
            : VersionedRows.FindForWriteAsync(rows, row => row.Id == id, notFound, request, cancellationToken);
    }
}
