namespace Emporium.Platform.Paging;

/// <summary>The database's guess at how many rows a query returns, without running it; null where it cannot say.</summary>
public interface IRowEstimator
{
    Task<long?> EstimateAsync<T>(IQueryable<T> query, CancellationToken cancellationToken);
}

/// <summary>Counts a list exactly up to Paging:ExactCountLimit, and estimates beyond it where the database can.</summary>
public sealed class ListCounter(PagingOptions options, IRowEstimator estimator)
{
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
}
