using System.Diagnostics.CodeAnalysis;

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
    public static async Task<WriteTarget<T>> FindForWriteAsync<T>(
        IQueryable<T> rows, string reference, string notFound, HttpRequest request, CancellationToken cancellationToken)
        where T : class, ICatalogRow
    {
        var row = await FindAsync(rows, reference, cancellationToken);
        if (row is null)
        {
            return new WriteTarget<T>(null, Problems.NotFound(notFound));
        }

        return ETags.IfMatchSatisfied(request, ETags.For(row.Id, row.Version))
            ? new WriteTarget<T>(row, null)
            : new WriteTarget<T>(null, Problems.PreconditionFailed());
    }
}

/// <summary>Either the row a write may change, or the problem that answers the request instead.</summary>
internal sealed record WriteTarget<T>(T? Row, ProblemHttpResult? Problem)
    where T : class
{
    [MemberNotNullWhen(true, nameof(Row))]
    [MemberNotNullWhen(false, nameof(Problem))]
    public bool Found => Row is not null && Problem is null;
}
