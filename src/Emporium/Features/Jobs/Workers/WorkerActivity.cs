namespace Emporium.Features.Jobs.Workers;

/// <summary>
/// This process's worker: its identity (the lease owner its job runner writes) and what it has done since it started,
/// for its heartbeat (<see cref="WorkerRegistry"/>).
/// </summary>
public sealed class WorkerActivity(TimeProvider clock)
{
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(5);

    private readonly Queue<DateTimeOffset> _recent = new();
    private long _completed;
    private long _failed;

    /// <summary>Unique per host (several hosts may share a process in tests), readable in the jobs table.</summary>
    public string Id { get; } = Platform.Workers.Leases.NewOwner(JobConfiguration.LeaseOwnerLength);

    public long Completed => Interlocked.Read(ref _completed);

    public long Failed => Interlocked.Read(ref _failed);

    public void Finished(bool completed)
    {
        Interlocked.Increment(ref completed ? ref _completed : ref _failed);
        lock (_recent)
        {
            _recent.Enqueue(clock.GetUtcNow());
        }
    }

    /// <summary>Jobs finished per minute over the last five minutes (or since the start, when that is shorter).</summary>
    public double PerMinute(DateTimeOffset startedAt)
    {
        var now = clock.GetUtcNow();
        lock (_recent)
        {
            while (_recent.Count > 0 && now - _recent.Peek() > RateWindow)
            {
                _recent.Dequeue();
            }

            var minutes = Math.Max((now - startedAt < RateWindow ? now - startedAt : RateWindow).TotalMinutes, 1.0 / 60);
            return Math.Round(_recent.Count / minutes, 2);
        }
    }
}
