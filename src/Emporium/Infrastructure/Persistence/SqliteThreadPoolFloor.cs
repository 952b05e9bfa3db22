namespace Emporium.Infrastructure.Persistence;

/// <summary>
/// On SQLite, raises the thread pool's minimum of worker threads to Database:SqliteMinWorkerThreads (decision 0011).
/// Threads are still made only when work is queued; the floor only lets the pool make them at once instead of about
/// two a second.
/// </summary>
internal sealed class SqliteThreadPoolFloor(IOptions<DatabaseOptions> options, ILogger<SqliteThreadPoolFloor> logger) : IStartupTask
{
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var database = options.Value;
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        if (database.Provider == DatabaseProvider.Sqlite && workers < database.SqliteMinWorkerThreads)
        {
            ThreadPool.SetMinThreads(database.SqliteMinWorkerThreads, completionPorts);
            logger.LogDebug("Thread pool floor raised from {Before} to {After} worker threads", workers, database.SqliteMinWorkerThreads);
        }

        return Task.CompletedTask;
    }
}
