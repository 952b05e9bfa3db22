using System.Collections.Concurrent;
using System.Diagnostics;
using Emporium.Platform.Workers;

namespace Emporium.Features.Jobs;

/// <summary>
/// Claims due jobs under a lease and runs their handlers, up to Jobs:Concurrency at once, in processes whose
/// role includes the worker. Wakes on the transport's signal and at least every Jobs:PollInterval, which is
/// also how due retries and jobs whose worker died (expired leases) are found.
/// </summary>
internal sealed partial class JobRunner(
    IServiceScopeFactory scopes,
    IJobTransport transport,
    IOptions<JobsOptions> options,
    IOptions<EmporiumOptions> emporium,
    Workers.WorkerActivity worker,
    TimeProvider clock,
    IEnumerable<HandledJobKind> handled,
    ILogger<JobRunner> logger) : BackgroundService
{
    private enum StopReason
    {
        None,
        Shutdown,
        CancelRequested,
        LeaseLost,
    }

    private readonly JobsOptions _options = options.Value;
    private readonly JobKinds _kinds = options.Value.KindFilter.Handling(handled.Select(h => h.Kind));

    /// <summary>This process's worker (unique per host: several hosts may share a process in tests), readable in the jobs table.</summary>
    public string Owner => worker.Id;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!emporium.Value.RunsWorker)
        {
            return;
        }

        await Task.Yield();
        LogTaking(_kinds.ToString());
        using var slots = new SemaphoreSlim(_options.Concurrency);
        var running = new ConcurrentDictionary<long, Task>();
        var sequence = 0L;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var job = await TryClaimAsync(stoppingToken);
                if (job is null)
                {
                    slots.Release();
                    await transport.WaitAsync(_options.PollInterval, stoppingToken);
                    continue;
                }

                var key = Interlocked.Increment(ref sequence);
                running[key] = Task.Run(async () =>
                {
                    try
                    {
                        await RunAsync(job, stoppingToken);
                    }
                    finally
                    {
                        running.TryRemove(key, out _);
                        slots.Release();
                    }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Handlers see the stopping token and release their leases; wait for those writes before exiting.
        await Task.WhenAll(running.Values);
    }

    private async Task<ClaimedJob?> TryClaimAsync(CancellationToken stoppingToken)
    {
        try
        {
            await BuryExpiredLastAttemptsAsync(stoppingToken);
            // The lease ends LeaseDuration after this instant (the claim's own expiry), however long the statement waits.
            var at = Now;
            return await StoreAsync(store => store.ClaimAsync(Owner, at, _options.LeaseDuration, _kinds, stoppingToken)) is { } job
                ? job with { LeaseEndsAt = at + _options.LeaseDuration }
                : null;
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            LogClaimFailed(exception);
            return null;
        }
    }

    private async Task RunAsync(ClaimedJob job, CancellationToken stoppingToken)
    {
        if (job.CancelRequested)
        {
            await RecordAsync(job.Id, job.Kind, JobStatus.CANCELLED, store => store.FinishAsync(job.Id, Owner, job.Attempts, JobStatus.CANCELLED, "Cancelled on request.", Now));
            return;
        }

        async Task<int> Record(JobStatus status, Func<IJobStore, Task<int>> write)
        {
            var written = await RecordAsync(job.Id, job.Kind, status, write);
            if (written > 0)
            {
                worker.Finished(completed: status == JobStatus.COMPLETED);
            }

            return written;
        }

        using var handlerStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var heartbeatStop = new CancellationTokenSource();
        var reason = StopReason.None;
        void Stop(StopReason why)
        {
            reason = why;
            handlerStop.Cancel();
        }

        // The run continues the trace of the request that queued the job (its events carry it on to webhook deliveries).
        using var activity = Platform.Telemetry.TraceContext.Start($"job {job.Kind}", job.TraceParent);
        activity.SetTag("emporium.job.id", job.Id).SetTag("emporium.job.attempt", job.Attempts);

        // The job's own scope: its handler, and the store a checkpoint joins the handler's transaction through.
        await using var scope = scopes.CreateAsyncScope();
        var hold = new LeaseHold(job.LeaseEndsAt ?? Now + _options.LeaseDuration);
        var progress = new ProgressWriter(this, job, clock, _options.ProgressInterval, scope.ServiceProvider.GetRequiredService<IJobStore>(), hold);
        var heartbeat = HeartbeatAsync(job, hold, Stop, heartbeatStop.Token);
        Func<Task<int>>? outcome = null;
        try
        {
            var handler = scope.ServiceProvider.GetKeyedService<IJobHandler>(job.Kind)
                ?? throw new PermanentJobFailure($"No handler is registered for job kind '{job.Kind}'.");
            var context = new JobContext(
                job.Id, job.Kind, job.Payload, job.Attempts, job.MaxAttempts, progress.ReportAsync, progress.Checkpoint, progress.SaveCheckpointAsync, progress.SaveCheckpointWithinAsync);
            LogStarting(job.Id, job.Kind, job.Attempts);
            await handler.HandleAsync(context, handlerStop.Token);
            var finalProgress = progress.Latest;
            outcome = () => Record(JobStatus.COMPLETED, store => store.CompleteAsync(job.Id, Owner, job.Attempts, context.ResultJson, finalProgress, Now));
        }
        catch (Exception) when (handlerStop.IsCancellationRequested)
        {
            if (stoppingToken.IsCancellationRequested)
            {
                reason = StopReason.Shutdown;
            }

            outcome = reason switch
            {
                StopReason.Shutdown => () => StoreAsync(store => store.ReleaseAsync(job.Id, Owner, job.Attempts, Now)),
                StopReason.CancelRequested => () => Record(JobStatus.CANCELLED, store => store.FinishAsync(job.Id, Owner, job.Attempts, JobStatus.CANCELLED, "Cancelled on request.", Now)),
                // Another worker holds the job now: the row is theirs to write.
                _ => null,
            };
        }
        catch (PermanentJobFailure failure)
        {
            LogFailed(job.Id, job.Kind, failure.Message);
            outcome = () => Record(JobStatus.FAILED, store => store.FinishAsync(job.Id, Owner, job.Attempts, JobStatus.FAILED, failure.Message, Now));
        }
        catch (Exception exception)
        {
            var error = $"{exception.GetType().Name}: {exception.Message}";
            Func<Task<int>> failed;
            if (job.Attempts >= job.MaxAttempts)
            {
                LogDead(exception, job.Id, job.Kind, job.Attempts);
                failed = () => Record(JobStatus.DEAD, store => store.FinishAsync(job.Id, Owner, job.Attempts, JobStatus.DEAD, error, Now, unlessCancelRequested: true));
            }
            else
            {
                var next = Now + RetryDelay(job.Attempts);
                LogRetrying(exception, job.Id, job.Kind, job.Attempts, next);
                failed = () => StoreAsync(store => store.ScheduleRetryAsync(job.Id, Owner, job.Attempts, error, next, Now, unlessCancelRequested: true));
            }

            // A cancel asked for while the attempt was failing (before a heartbeat saw it) is what the job ends with.
            outcome = async () => await failed() is > 0 and var written
                ? written
                : await Record(JobStatus.CANCELLED, store => store.FinishAsync(job.Id, Owner, job.Attempts, JobStatus.CANCELLED, "Cancelled on request.", Now));
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }

        if (outcome is not null)
        {
            await WriteOutcomeAsync(job, hold, outcome, stoppingToken);
        }

        // A finished job frees a slot; a retry due at once should not wait for the next poll.
        transport.Publish([job.Id]);
    }

    /// <summary>
    /// Writes the attempt's outcome, and writes it again while the lease lasts when the database failed it: left to the
    /// lease, a job whose last attempt had done its work became DEAD (import.failed; a dry run's upload gone by then).
    /// Each write is guarded by the lease, so one that did land the first time only finds nothing to change.
    /// </summary>
    private async Task WriteOutcomeAsync(ClaimedJob job, LeaseHold hold, Func<Task<int>> outcome, CancellationToken stoppingToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (await outcome() == 0)
                {
                    LogLeaseLost(job.Id);
                }

                return;
            }
            catch (Exception exception)
            {
                var wait = TimeSpan.FromMilliseconds(250 << Math.Min(attempt, 4));
                if (stoppingToken.IsCancellationRequested || Now + wait >= hold.Until - (_options.LeaseDuration / 6))
                {
                    // The lease expires and the job is taken again (or, after its last attempt, ends DEAD).
                    LogOutcomeFailed(exception, job.Id);
                    return;
                }

                LogOutcomeRetrying(exception, job.Id, wait);
                await Task.Delay(wait, clock, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Renews the lease every third of it and stops the handler when the job is no longer this worker's: another holds it,
    /// a cancel was asked for, or the renewals failed (the database out of reach) until the next beat, given all the time a
    /// beat may take (half an interval), could end after the lease. Until then a missed beat is not fatal; after it,
    /// another worker may claim the job, and a handler still running here would do its work twice (a second confirmation
    /// email, an image rendered twice). What is left of the lease then (half an interval) covers the handler's stopping
    /// and some difference between the workers' clocks.
    /// </summary>
    private async Task HeartbeatAsync(ClaimedJob job, LeaseHold hold, Action<StopReason> stop, CancellationToken cancellationToken)
    {
        var interval = _options.LeaseDuration / 3;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, clock, cancellationToken);
                var beganAt = Now;
                // A beat that hangs (a connection that went silent) fails in time to count.
                using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                beat.CancelAfter(interval / 2);
                var state = await StoreAsync(store => store.HeartbeatAsync(job.Id, Owner, job.Attempts, beganAt, _options.LeaseDuration, beat.Token));
                hold.RenewedAt(beganAt, _options.LeaseDuration);
                if (state is null)
                {
                    LogLeaseLost(job.Id);
                    stop(StopReason.LeaseLost);
                    return;
                }

                if (state == true)
                {
                    stop(StopReason.CancelRequested);
                    return;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogHeartbeatFailed(exception, job.Id);
                if (Now + interval + (interval / 2) >= hold.Until)
                {
                    LogLeaseRunningOut(job.Id, hold.Until);
                    stop(StopReason.LeaseLost);
                    return;
                }
            }
        }
    }

    /// <summary>When this worker's lease on a running job ends, as far as it knows: renewed by beats and by checkpoints.</summary>
    private sealed class LeaseHold(DateTime until)
    {
        private readonly Lock _lock = new();
        private DateTime _until = until;

        public DateTime Until
        {
            get
            {
                lock (_lock)
                {
                    return _until;
                }
            }
        }

        public void RenewedAt(DateTime at, TimeSpan lease)
        {
            lock (_lock)
            {
                _until = at + lease > _until ? at + lease : _until;
            }
        }
    }

    internal TimeSpan RetryDelay(int attempt)
    {
        var schedule = _options.Schedule;
        var delay = schedule[Math.Clamp(attempt - 1, 0, schedule.Count - 1)];
        var jitter = 1 + ((Random.Shared.NextDouble() * 0.4) - 0.2);
        return delay * jitter;
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>A final status and, when the job's kind announces it, its event, in one transaction (JobOutcomes).</summary>
    private async Task<int> RecordAsync(long id, string kind, JobStatus status, Func<IJobStore, Task<int>> write)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<JobOutcomes>().RecordAsync(id, kind, status, write);
    }

    private async Task BuryExpiredLastAttemptsAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        foreach (var (id, kind, cancelRequested) in await StoreAsync(store => store.FindExpiredLastAttemptsAsync(now, cancellationToken)))
        {
            try
            {
                var status = cancelRequested ? JobStatus.CANCELLED : JobStatus.DEAD;
                if (await RecordAsync(id, kind, status, store => store.BuryAsync(id, cancelRequested, now, cancellationToken)) > 0)
                {
                    LogBuried(id, kind);
                }
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // One job whose end cannot be recorded now (its kind's files in a store that is down) is tried again on
                // the next round; it must not stop this worker claiming every other job meanwhile.
                LogBuryFailed(exception, id, kind);
            }
        }
    }

    private Task<T> StoreAsync<T>(Func<IJobStore, Task<T>> work) => scopes.WithScopedAsync(work);

    /// <summary>
    /// Keeps the latest report and writes it at most once per interval (always when the work is done). A handler's
    /// checkpoint travels inside the progress JSON (<see cref="JobCheckpoint"/>); a manual retry keeps it unless asked to
    /// start over.
    /// </summary>
    private sealed class ProgressWriter(JobRunner runner, ClaimedJob job, TimeProvider clock, TimeSpan interval, IJobStore jobStore, LeaseHold hold)
    {
        private readonly JobPace _pace = new(clock, resuming: job.Progress is not null);
        private long _lastWrite = long.MinValue;
        private string? _progress = job.Progress;

        public string? Checkpoint { get; private set; } = JobCheckpoint.Read(job.Progress);

        public string? Latest { get; private set; }

        public async Task SaveCheckpointAsync(string checkpoint, CancellationToken cancellationToken)
        {
            using (JsonDocument.Parse(checkpoint))
            {
            }

            Checkpoint = checkpoint;
            var json = JobCheckpoint.With(Latest ?? _progress ?? "{}", Checkpoint);
            _progress = json;
            if (Latest is not null)
            {
                // The final write on completion stores Latest: keep the checkpoint in it.
                Latest = json;
            }

            await runner.StoreAsync(store => store.SaveProgressAsync(job.Id, runner.Owner, job.Attempts, json, runner.Now, cancellationToken));
        }

        /// <summary>Progress and checkpoint in one write that joins <paramref name="db"/>'s transaction and extends the lease; see JobContext.</summary>
        public async Task SaveCheckpointWithinAsync(JobProgress progress, string checkpoint, EmporiumDbContext db, CancellationToken cancellationToken)
        {
            using (JsonDocument.Parse(checkpoint))
            {
            }

            var json = JobCheckpoint.With(Compose(progress), checkpoint);
            var store = jobStore.On(db);
            var now = runner.Now;
            if (await store.SaveProgressAndExtendLeaseAsync(job.Id, runner.Owner, job.Attempts, json, now, runner._options.LeaseDuration, cancellationToken) == 0)
            {
                throw new InvalidOperationException($"Job {job.Id} is no longer held by this worker (its lease expired), so its work is not committed.");
            }

            // Renewed once the handler's transaction commits; if it does not, the handler fails anyway.
            hold.RenewedAt(now, runner._options.LeaseDuration);

            // Only now, so that no other write of this attempt stores a checkpoint whose work may yet roll back.
            Checkpoint = checkpoint;
            Latest = json;
            _progress = json;
            _lastWrite = clock.GetTimestamp();
        }

        private string Compose(JobProgress progress)
        {
            var rate = _pace.Rate(progress.Processed);
            double? percent = progress.Total is > 0 ? Math.Round(Math.Min(100.0, progress.Processed * 100.0 / progress.Total.Value), 1) : null;
            double? eta = progress.Total is { } total && rate is > 0 ? Math.Round(Math.Max(0, total - progress.Processed) / rate.Value, 1) : null;
            return JsonSerializer.Serialize(new JobProgressResponse(progress.Processed, progress.Total, percent, rate, eta, progress.Message), JobJson.Options);
        }

        public async Task ReportAsync(JobProgress progress, bool done, CancellationToken cancellationToken)
        {
            Latest = JobCheckpoint.With(Compose(progress), Checkpoint);

            var now = clock.GetTimestamp();
            if (!done && _lastWrite != long.MinValue && clock.GetElapsedTime(_lastWrite, now) < interval)
            {
                return;
            }

            _lastWrite = now;
            var json = Latest;
            await runner.StoreAsync(store => store.SaveProgressAsync(job.Id, runner.Owner, job.Attempts, json, runner.Now, cancellationToken));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) attempt {Attempt} starting")]
    private partial void LogStarting(long jobId, string kind, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Kind}) attempt {Attempt} failed; retrying at {NextRunAt:o}")]
    private partial void LogRetrying(Exception exception, long jobId, string kind, int attempt, DateTime nextRunAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} ({Kind}) is dead after {Attempts} attempts")]
    private partial void LogDead(Exception exception, long jobId, string kind, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Kind}) failed permanently: {Error}")]
    private partial void LogFailed(long jobId, string kind, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: lease lost to another worker; its handler was stopped")]
    private partial void LogLeaseLost(long jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: heartbeat failed")]
    private partial void LogHeartbeatFailed(Exception exception, long jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the lease could not be renewed and ends at {Until:O}, before the next beat; its handler was stopped so that the worker that takes the job next is the only one running it")]
    private partial void LogLeaseRunningOut(long jobId, DateTime until);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: recording the outcome failed; the job runs again when its lease expires")]
    private partial void LogOutcomeFailed(Exception exception, long jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: recording the outcome failed; writing it again in {Wait}")]
    private partial void LogOutcomeRetrying(Exception exception, long jobId, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} ({Kind}) is dead: its worker stopped during the last attempt")]
    private partial void LogBuried(long jobId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Kind}): recording that it is dead failed; trying again on the next round")]
    private partial void LogBuryFailed(Exception exception, long jobId, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Jobs: this worker takes {Kinds}")]
    private partial void LogTaking(string kinds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming a job failed")]
    private partial void LogClaimFailed(Exception exception);
}
