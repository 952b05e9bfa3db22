namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// PostgreSQL's planner estimate for a query: EXPLAIN of the same SQL with the same parameters, selecting a constant, so
/// that what the rows include (an order's lines, a product's categories) is not joined in and counted as rows.
/// </summary>
internal sealed class PostgresRowEstimator(EmporiumDbContext db) : IRowEstimator
{
    public async Task<long?> EstimateAsync<T>(IQueryable<T> query, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = query.Select(_ => 1).CreateDbCommand();
            command.CommandText = "EXPLAIN (FORMAT JSON) " + command.CommandText;
            var plan = (string?)await command.ExecuteScalarAsync(cancellationToken);
            if (plan is null)
            {
                return null;
            }

            using var json = JsonDocument.Parse(plan);
            return (long)json.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}

/// <summary>SQLite has no row estimates; lists there count exactly.</summary>
internal sealed class NoRowEstimator : IRowEstimator
{
    public Task<long?> EstimateAsync<T>(IQueryable<T> query, CancellationToken cancellationToken) => Task.FromResult<long?>(null);
}
