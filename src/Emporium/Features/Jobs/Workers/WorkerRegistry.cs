using System.Reflection;

namespace Emporium.Features.Jobs.Workers;

/// <summary>
/// Registers this process's worker in the workers table at start, renews it every Workers:HeartbeatInterval with what it
/// has done, and marks it stopped when the process shuts down. Runs in processes whose role includes the worker.
/// </summary>
internal sealed partial class WorkerRegistry(
    IServiceScopeFactory scopes,
    WorkerActivity activity,
    IOptions<WorkersOptions> options,
    IOptions<JobsOptions> jobs,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<WorkerRegistry> logger) : BackgroundService
{
    private static readonly string Version =
        typeof(WorkerRegistry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly DateTime _startedAt = clock.GetUtcNow().UtcDateTime;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!emporium.Value.RunsWorker)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, clock);
        try
        {
            do
            {
                await ReportAsync(stopped: false, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await ReportAsync(stopped: true, CancellationToken.None);
    }

    private async Task ReportAsync(bool stopped, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<EmporiumDbContext>();
            var now = clock.GetUtcNow().UtcDateTime;
            var row = await db.Set<WorkerProcess>().FindAsync([activity.Id], cancellationToken);
            if (row is null)
            {
                row = new WorkerProcess
                {
                    Id = activity.Id,
                    Host = Environment.MachineName,
                    ProcessId = Environment.ProcessId,
                    Role = emporium.Value.Role.ToString(),
                    Kinds = jobs.Value.KindFilter.ToString(),
                    Concurrency = jobs.Value.Concurrency,
                    Version = Version.Length <= 100 ? Version : Version[..100],
                    StartedAt = _startedAt,
                };
                db.Add(row);
            }

            row.HeartbeatAt = now;
            row.StoppedAt = stopped ? now : null;
            row.JobsCompleted = activity.Completed;
            row.JobsFailed = activity.Failed;
            row.JobsPerMinute = activity.PerMinute(_startedAt);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A missed heartbeat shows the worker as lost for a while; its jobs are safe under their own leases.
            LogHeartbeatFailed(logger, exception);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Recording this worker's heartbeat failed")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);
}

/// <summary>The worker registry's settings (section Workers).</summary>
public sealed class WorkersOptions
{
    public const string Section = "Workers";

    /// <summary>How often a worker renews its row; one silent for three intervals is shown as lost.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long stopped and lost workers stay listed.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan ListFor { get; set; } = TimeSpan.FromDays(1);
}
