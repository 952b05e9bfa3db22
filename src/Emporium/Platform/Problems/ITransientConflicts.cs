namespace Emporium.Platform.Problems;

/// <summary>
/// Says whether an exception means that a transaction lost a race the database resolved by aborting it (a deadlock, a
/// serialization failure, a busy or locked SQLite file): the same transaction may succeed when run again. Implemented by
/// the persistence adapter, the only code that knows the provider's error codes.
/// </summary>
public interface ITransientConflicts
{
    bool IsTransientConflict(Exception exception);
}

public static class TransientConflictRetries
{
    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds or has run <paramref name="attempts"/> times, again (after a few
    /// milliseconds of jitter, longer each time) only when it lost a race the database aborted: nothing of a lost attempt
    /// was kept, so each attempt must start afresh (a cleared change tracker or a new scope). The last loss is thrown.
    /// </summary>
    public static async Task<T> RetryAsync<T>(
        this ITransientConflicts conflicts, Func<Task<T>> attempt, int attempts, TimeProvider clock, CancellationToken cancellationToken,
        Action<Exception, int>? lost = null)
    {
        for (var run = 1; ; run++)
        {
            try
            {
                return await attempt();
            }
            catch (Exception exception) when (run < attempts && conflicts.IsTransientConflict(exception))
            {
                lost?.Invoke(exception, run);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 1 + (10 * run))), clock, cancellationToken);
            }
        }
    }
}
