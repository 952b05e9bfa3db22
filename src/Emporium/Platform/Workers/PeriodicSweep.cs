using System.Linq.Expressions;

namespace Emporium.Platform.Workers;

/// <summary>
/// Housekeeping that worker processes run every <see cref="Interval"/>: one sweep at start, then one per tick. What went is
/// logged as "Deleted {Count} {What}"; a failed sweep is logged and the next tick tries again. Several workers sweeping at
/// once must be harmless.
/// </summary>
/// <param name="what">What a sweep deletes, in the log's words ("expired refresh tokens").</param>
/// <param name="done">What the sweep did to them, for the log ("Deleted", or "Cancelled" for unpaid orders).</param>
internal abstract partial class PeriodicSweep(
    IOptions<EmporiumOptions> emporium, TimeProvider clock, ILogger logger, string what, string done = "Deleted") : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    protected EmporiumOptions HostSettings { get; } = emporium.Value;

    protected abstract TimeSpan Interval { get; }

    /// <summary>Does one round of the work; answers how many things it removed (0 logs nothing).</summary>
    public abstract Task<int> SweepAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the rows of <typeparamref name="T"/> that <paramref name="gone"/> selects, a chunk of ids at a time, so a first
    /// sweep over years of rows holds no long transaction; a row that no longer matches when its chunk is deleted stays.
    /// </summary>
    protected static Task<int> DeleteInChunksAsync<T>(
        IServiceScopeFactory scopes, Expression<Func<T, bool>> gone, CancellationToken cancellationToken, int chunk = 5_000)
        where T : class =>
        DeleteInChunksAsync<T>(scopes, _ => gone, cancellationToken, chunk);

    /// <summary>As above, for a condition that reads other tables (<paramref name="goneIn"/> is given each chunk's context).</summary>
    protected static async Task<int> DeleteInChunksAsync<T>(
        IServiceScopeFactory scopes, Func<EmporiumDbContext, Expression<Func<T, bool>>> goneIn, CancellationToken cancellationToken, int chunk = 5_000)
        where T : class
    {
        var total = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            var gone = goneIn(db);
            var ids = await db.Set<T>().Where(gone)
                .OrderBy(row => EF.Property<long>(row, "Id"))
                .Select(row => EF.Property<long>(row, "Id"))
                .Take(chunk)
                .ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                return total;
            }

            total += await db.Set<T>().Where(row => ids.Contains(EF.Property<long>(row, "Id"))).Where(gone).ExecuteDeleteAsync(cancellationToken);
            if (ids.Count < chunk)
            {
                return total;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!HostSettings.RunsWorker)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, Clock);
        do
        {
            try
            {
                var swept = await SweepAsync(stoppingToken);
                if (swept > 0)
                {
                    LogSwept(logger, done, swept, what);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, exception, what);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Done} {Count} {What}")]
    private static partial void LogSwept(ILogger logger, string done, int count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping {What} failed; the next run tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string what);
}
