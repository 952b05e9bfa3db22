using System.Linq.Expressions;

namespace Emporium.Platform.Paging;

public static class ListFilters
{
    /// <summary>Filters by <paramref name="predicate"/> only when the client asked for it (<paramref name="given"/>).</summary>
    public static IQueryable<T> WhereIf<T>(this IQueryable<T> rows, bool given, Expression<Func<T, bool>> predicate) =>
        given ? rows.Where(predicate) : rows;
}
