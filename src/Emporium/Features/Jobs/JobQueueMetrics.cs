using System.Diagnostics.Metrics;
using Emporium.Platform.Telemetry;

namespace Emporium.Features.Jobs;

/// <summary>
/// Gauges of the shared queue on meter Emporium.Work: jobs waiting and running by kind, and the age of the oldest due job
/// by kind (how far behind the workers are). Read from the database only when a collector asks, at most once per
/// <see cref="Freshness"/>: a collection answers what the last read found and starts the next read when it is older. Every
/// process reports the same queue, so aggregate across processes with max, not sum.
/// </summary>
internal sealed partial class JobQueueMetrics : IHostedService
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private Snapshot _snapshot = new([], [], DateTimeOffset.MinValue);
    private int _reading;

    public JobQueueMetrics(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider clock, ILogger<JobQueueMetrics> logger)
    {
        (_scopes, _clock, _logger) = (scopes, clock, logger);
        // The factory gives every caller asking for this name the same meter (EmporiumMetrics's), and disposes it.
        var meter = meters.Create(EmporiumMetrics.MeterName);
        meter.CreateObservableGauge("emporium.jobs.queued", () => Current().Queued, "{job}",
            "Jobs by kind and status: PENDING (due or scheduled for later) and PROCESSING.");
        meter.CreateObservableGauge("emporium.jobs.oldest_due_age", () => Current().OldestDue, "s",
            "Seconds since the oldest PENDING job of each kind became due: near zero while workers keep up.");
    }

    // Made at start-up, so the instruments exist before the first collection.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private Snapshot Current()
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (_clock.GetUtcNow() - snapshot.ReadAt >= Freshness && Interlocked.Exchange(ref _reading, 1) == 0)
        {
            _ = Task.Run(ReadAsync);
        }

        return snapshot;
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var jobs = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().Set<Job>().AsNoTracking();
            var now = _clock.GetUtcNow();
            var counts = await jobs
                .Where(job => job.Status == JobStatus.PENDING || job.Status == JobStatus.PROCESSING)
                .GroupBy(job => new { job.Kind, job.Status })
                .Select(group => new { group.Key.Kind, group.Key.Status, Count = group.Count() })
                .ToListAsync();
            var due = now.UtcDateTime;
            var oldest = await jobs
                .Where(job => job.Status == JobStatus.PENDING && job.NextRunAt <= due)
                .GroupBy(job => job.Kind)
                .Select(group => new { Kind = group.Key, Since = group.Min(job => job.NextRunAt) })
                .ToListAsync();
            Volatile.Write(ref _snapshot, new Snapshot(
                [.. counts.Select(count => new Measurement<long>(count.Count, Tag("kind", count.Kind), Tag("status", count.Status.ToString())))],
                [.. oldest.Select(job => new Measurement<double>(Math.Max(0, (due - job.Since).TotalSeconds), Tag("kind", job.Kind)))],
                now));
        }
        catch (Exception exception)
        {
            LogReadFailed(_logger, exception);
        }
        finally
        {
            Interlocked.Exchange(ref _reading, 0);
        }
    }

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    private sealed record Snapshot(Measurement<long>[] Queued, Measurement<double>[] OldestDue, DateTimeOffset ReadAt);

    [LoggerMessage(LogLevel.Warning, "Reading the job queue for its gauges failed; they keep their last values")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);
}
