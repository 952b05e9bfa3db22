using Emporium.Platform.Http;

namespace Emporium.Platform.Paging;

/// <summary>The database's guess at how many rows a query returns, without running it; null where it cannot say.</summary>
public interface IRowEstimator
{
    Task<long?> EstimateAsync<T>(IQueryable<T> query, CancellationToken cancellationToken);
}

/// <summary>
/// The list skeleton every paged endpoint shares: resolve page and page_size, count the matches (exactly up to
/// Paging:ExactCountLimit, estimated beyond it where the database can), read one ordered page and wrap it in the envelope.
/// </summary>
public sealed class ListPager(PagingOptions options, IRowEstimator estimator)
{
    /// <summary>page and page_size with defaults and the cap applied; mistakes go to <paramref name="errors"/>.</summary>
    public ResolvedPage Resolve(PageRequest request, ValidationErrors errors) => Pager.Resolve(request, options, errors);

    public async Task<PageCount> CountAsync<T>(IQueryable<T> query, CancellationToken cancellationToken)
    {
        var limit = options.ExactCountLimit;
        var upToLimit = await query.Take(limit + 1).LongCountAsync(cancellationToken);
        if (upToLimit <= limit)
        {
            return new PageCount(upToLimit, Exact: true);
        }

        return await estimator.EstimateAsync(query, cancellationToken) is { } estimate
            ? new PageCount(Math.Max(estimate, limit + 1), Exact: false)
            : new PageCount(await query.LongCountAsync(cancellationToken), Exact: true);
    }

    /// <summary>One page of <paramref name="rows"/> in <paramref name="order"/> (which must end on a unique key), each row mapped for the response.</summary>
    public Task<Paged<TResponse>> PageAsync<T, TResponse>(
        IQueryable<T> rows,
        ResolvedPage page,
        Func<IQueryable<T>, IOrderedQueryable<T>> order,
        Func<T, TResponse> map,
        HttpRequest request,
        CancellationToken cancellationToken) =>
        PageAsync(rows, page, order, (found, _) => Task.FromResult(found.ConvertAll(row => map(row))), request, cancellationToken);

    /// <summary>As above, for responses that need one more query per page (the attempts of a page of deliveries, the roles of a page of users).</summary>
    public async Task<Paged<TResponse>> PageAsync<T, TResponse>(
        IQueryable<T> rows,
        ResolvedPage page,
        Func<IQueryable<T>, IOrderedQueryable<T>> order,
        Func<List<T>, CancellationToken, Task<List<TResponse>>> map,
        HttpRequest request,
        CancellationToken cancellationToken)
    {
        var found = await order(rows).Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        // A first page that is not full is the whole list: its length is the count, without another round trip.
        var count = page.Skip == 0 && found.Count < page.PageSize
            ? new PageCount(found.Count, Exact: true)
            : await CountAsync(rows, cancellationToken);
        return Pager.Create(request, page, count, await map(found, cancellationToken), options.MaxPageSize);
    }

    /// <summary>
    /// A list request's whole answer: 400 with every field mistake (the caller's filters in <paramref name="errors"/>, and
    /// page or page_size), otherwise one page of <paramref name="rows"/> in <paramref name="order"/>.
    /// </summary>
    public Task<Results<Ok<Paged<TResponse>>, ValidationProblem>> ListAsync<T, TResponse>(
        IQueryable<T> rows,
        PageRequest paging,
        ValidationErrors errors,
        Func<IQueryable<T>, IOrderedQueryable<T>> order,
        Func<T, TResponse> map,
        RequestScope scope) =>
        ListAsync(rows, paging, errors, order, (found, _) => Task.FromResult(found.ConvertAll(row => map(row))), scope);

    /// <inheritdoc cref="ListAsync{T, TResponse}(IQueryable{T}, PageRequest, ValidationErrors, Func{IQueryable{T}, IOrderedQueryable{T}}, Func{T, TResponse}, RequestScope)"/>
    public async Task<Results<Ok<Paged<TResponse>>, ValidationProblem>> ListAsync<T, TResponse>(
        IQueryable<T> rows,
        PageRequest paging,
        ValidationErrors errors,
        Func<IQueryable<T>, IOrderedQueryable<T>> order,
        Func<List<T>, CancellationToken, Task<List<TResponse>>> map,
        RequestScope scope)
    {
        var page = Resolve(paging, errors);
        return errors.IsEmpty
            ? TypedResults.Ok(await PageAsync(rows, page, order, map, scope.Http.Request, scope.Aborted))
            : errors.ToProblem();
    }
}
