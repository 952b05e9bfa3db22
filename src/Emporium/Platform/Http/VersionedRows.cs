using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using ProblemResults = Emporium.Platform.Problems.Problems;

namespace Emporium.Platform.Http;

/// <summary>A row whose version backs its ETag and guards every write to it (optimistic concurrency).</summary>
public interface IVersioned
{
    long Id { get; }

    int Version { get; set; }
}

/// <summary>Either the row a write may change, or the problem that answers the request instead.</summary>
public sealed record WriteTarget<T>(T? Row, ProblemHttpResult? Problem)
    where T : class
{
    [MemberNotNullWhen(true, nameof(Row))]
    [MemberNotNullWhen(false, nameof(Problem))]
    public bool Found => Row is not null && Problem is null;
}

/// <summary>A write without If-Match that found its row changed under it every time it ran: answered 503 with Retry-After.</summary>
public sealed class ContendedRowException() : Exception("The row changed under the write each time it ran.");

/// <summary>The guard every write to a versioned row starts with, and the save it ends with.</summary>
public static class VersionedRows
{
    /// <summary>
    /// Runs a write again when it found the version changed under it (412) and the client named no version in If-Match:
    /// a sale, a processed image or another edit raises versions, and a client that asked for no precondition must not fail
    /// because of them (decision 0016). With If-Match naming a version the 412 stands.
    /// </summary>
    public static async Task<TResult> UnlessStaleAsync<TResult>(HttpRequest request, DbContext db, Func<Task<TResult>> write)
        where TResult : INestedHttpResult
    {
        var ifMatch = ETags.IfMatchNamesAVersion(request);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var result = await write();
            if (ifMatch || result.Result is not ProblemHttpResult { StatusCode: StatusCodes.Status412PreconditionFailed })
            {
                return result;
            }

            if (attempt == 5)
            {
                // Still no 412 for a client that sent no precondition: the row is too busy now (a flash sale on a variant).
                throw new ContendedRowException();
            }
        }
    }

    /// <summary>The row to change, or the problem that stops the write: 404 when it does not exist, 412 when If-Match names another version.</summary>
    public static async Task<WriteTarget<T>> FindForWriteAsync<T>(
        IQueryable<T> rows, Expression<Func<T, bool>> match, string notFound, HttpRequest request, CancellationToken cancellationToken)
        where T : class, IVersioned
    {
        var row = await rows.FirstOrDefaultAsync(match, cancellationToken);
        if (row is null)
        {
            return new WriteTarget<T>(null, ProblemResults.NotFound(notFound));
        }

        return ETags.IfMatchSatisfied(request, ETags.For(row.Id, row.Version))
            ? new WriteTarget<T>(row, null)
            : new WriteTarget<T>(null, ProblemResults.PreconditionFailed());
    }

    /// <summary>Saves; 412 when the version the write started from is no longer the stored one.</summary>
    public static Task<ProblemHttpResult?> SaveAsync(DbContext db, CancellationToken cancellationToken) =>
        SaveAsync(db, collision: () => Task.FromResult<ProblemHttpResult?>(null), cancellationToken);

    /// <summary>
    /// As above, and when the database refuses the save otherwise (a unique key a concurrent write took since the caller
    /// checked it), the problem <paramref name="collision"/> finds by looking again; a refusal it cannot explain is rethrown.
    /// </summary>
    public static async Task<ProblemHttpResult?> SaveAsync(DbContext db, Func<Task<ProblemHttpResult?>> collision, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateConcurrencyException)
        {
            return ProblemResults.PreconditionFailed();
        }
        catch (DbUpdateException)
        {
            if (await collision() is { } problem)
            {
                return problem;
            }

            throw;
        }
    }
}
