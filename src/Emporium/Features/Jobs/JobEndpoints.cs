using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace Emporium.Features.Jobs;

public static class JobEndpoints
{
    /// <summary>How often the event stream re-reads the job row.</summary>
    internal static readonly TimeSpan EventsPollInterval = TimeSpan.FromMilliseconds(250);

    private static readonly JobStatus[] Retryable = [JobStatus.DEAD, JobStatus.FAILED, JobStatus.CANCELLED];

    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/jobs").WithTags("Jobs").RequireAuthorization(Policies.ManageProducts);

        jobs.MapGet("", ListJobs)
            .Documented("List background jobs", "Newest first; filter by kind and status. Staff and admins see every job, sellers the jobs they queued "
                + "(their imports and bulk deletes); others' jobs answer 404 everywhere below.");
        jobs.MapGet("/{id:long}", GetJob)
            .Documented("Get a job", "Status, attempts, progress (processed, total, percent, rows_per_second, eta_seconds, message), result and last error.", 404);
        jobs.MapPost("/{id:long}/retry", RetryJob)
            .Documented("Run a stopped job again", "A DEAD, FAILED or CANCELLED job becomes PENDING with its attempts reset; any other status answers 409. "
                + "A job that saved a checkpoint (an import after its committed batches) resumes from it, keeping its progress; "
                + "?from_start=true drops the checkpoint and runs the job from the beginning. "
                + "A seller may not retry a job queued with staff rights (theirs before a change of role): 403.", 404, 409);
        jobs.MapPost("/{id:long}/cancel", CancelJob)
            .Documented("Cancel a job", "A PENDING job is CANCELLED at once (200). A PROCESSING job is marked cancel_requested (202) and becomes "
                + "CANCELLED when its worker notices, within a third of the lease (also when the worker dies first); one whose work ends before "
                + "that is COMPLETED, the cancel having come too late. A finished job answers 409.", 404, 409);
        jobs.MapGet("/{id:long}/events", JobEvents)
            .Produces<JobResponse>(StatusCodes.Status200OK, "text/event-stream")
            .Documented("Follow a job as server-sent events", "A `progress` event with the job whenever it changes (status, attempts, progress, error), and "
                + "again after Jobs:EventStreamKeepAlive (15 s) without a change; then one `done` event with the final job when it is COMPLETED, FAILED, "
                + "CANCELLED or DEAD, and the stream ends. A stream also ends after Jobs:EventStreamLifetime (10 min) or when the process stops: "
                + "reconnect (EventSource does) to follow on.", 404);

        // The seeds' original status route, kept for clients written against it.
        app.MapGet("/api/job/{id:long}/status", GetJobStatus)
            .WithTags("Jobs")
            .RequireAuthorization(Policies.ManageProducts)
            .Documented("Get a job's status (compatibility route)", "The same body as GET /api/jobs/{id}; kept for clients of the seed API.", 404);
        return app;
    }

    public static Task<Results<Ok<Paged<JobResponse>>, ValidationProblem>> ListJobs(
        [AsParameters] JobListQuery query, [AsParameters] PageRequest paging, ListPager pager, [AsParameters] RequestScope scope)
    {
        var errors = new ValidationErrors();
        var status = errors.OneOf<JobStatus>(query.Status, "status");
        var kind = query.Kind?.Trim();
        var jobs = VisibleJobs(scope.Db, scope.Http.User)
            .WhereIf(!string.IsNullOrEmpty(kind), j => j.Kind == kind)
            .WhereIf(status is not null, j => j.Status == status);
        return pager.ListAsync(jobs, paging, errors, j => j.OrderByDescending(x => x.Id), JobResponse.From, scope);
    }

    public static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetJob(
        long id, ClaimsPrincipal user, EmporiumDbContext db, CancellationToken cancellationToken) =>
        await FindAsync(db, user, id, cancellationToken) is { } job ? TypedResults.Ok(JobResponse.From(job)) : Problems.NotFound("Job");

    public static Task<Results<Ok<JobResponse>, ProblemHttpResult>> GetJobStatus(
        long id, ClaimsPrincipal user, EmporiumDbContext db, CancellationToken cancellationToken) =>
        GetJob(id, user, db, cancellationToken);

    public static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> RetryJob(
        long id,
        [Description("Drop the job's checkpoint and start over instead of resuming (default false).")]
        [FromQuery(Name = "from_start")] bool? fromStart,
        ClaimsPrincipal user,
        EmporiumDbContext db,
        IJobTransport transport,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var stopped = await FindAsync(db, user, id, cancellationToken);
        if (stopped is null)
        {
            return Problems.NotFound("Job");
        }

        if (!user.IsStaffOrAdmin() && QueuedWithTheStoresReach(stopped.Payload))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden.",
                detail: "This job was queued with the store's reach over every owner's products, which your role no longer has; queue it again as you are now.");
        }

        // A stopped job's progress no longer changes, so what is read here is what the guarded update replaces.
        var progress = fromStart == true ? null : JobCheckpoint.ForRetry(stopped.Progress);
        var now = clock.GetUtcNow().UtcDateTime;
        var revived = await db.Set<Job>()
            .Where(j => j.Id == id && Retryable.Contains(j.Status))
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.Status, JobStatus.PENDING)
                .SetProperty(j => j.Attempts, 0)
                .SetProperty(j => j.NextRunAt, now)
                .SetProperty(j => j.CancelRequested, false)
                .SetProperty(j => j.LastError, (string?)null)
                .SetProperty(j => j.Result, (string?)null)
                .SetProperty(j => j.Progress, progress)
                .SetProperty(j => j.StartedAt, (DateTime?)null)
                .SetProperty(j => j.FinishedAt, (DateTime?)null)
                .SetProperty(j => j.UpdatedAt, now),
                cancellationToken);
        var job = await FindAsync(db, user, id, cancellationToken);
        if (job is null)
        {
            return Problems.NotFound("Job");
        }

        if (revived == 0)
        {
            return Problems.Conflict($"Only DEAD, FAILED or CANCELLED jobs can be retried; this one is {job.Status}.");
        }

        transport.Publish([id]);
        return TypedResults.Ok(JobResponse.From(job));
    }

    internal static async Task<Results<Ok<JobResponse>, Accepted<JobResponse>, ProblemHttpResult>> CancelJob(
        long id,
        ClaimsPrincipal user,
        EmporiumDbContext db,
        JobOutcomes outcomes,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (await FindAsync(db, user, id, cancellationToken) is not { } found)
        {
            return Problems.NotFound("Job");
        }

        // The status may move between the two guarded updates (claimed, finished); a few rounds settle it.
        for (var round = 0; round < 5; round++)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            // Through the outcomes, so what the job's kind ties to it learns the job will not run (an image shows as failed).
            var cancelled = await outcomes.RecordAsync(id, found.Kind, JobStatus.CANCELLED, _ => db.Set<Job>()
                .Where(j => j.Id == id && j.Status == JobStatus.PENDING)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(j => j.Status, JobStatus.CANCELLED)
                    .SetProperty(j => j.LastError, "Cancelled on request.")
                    .SetProperty(j => j.FinishedAt, now)
                    .SetProperty(j => j.UpdatedAt, now),
                    cancellationToken));
            if (cancelled == 1)
            {
                return TypedResults.Ok(JobResponse.From((await FindAsync(db, user, id, cancellationToken))!));
            }

            var requested = await db.Set<Job>()
                .Where(j => j.Id == id && j.Status == JobStatus.PROCESSING)
                .ExecuteUpdateAsync(set => set.SetProperty(j => j.CancelRequested, true).SetProperty(j => j.UpdatedAt, now), cancellationToken);
            var job = await FindAsync(db, user, id, cancellationToken);
            if (job is null)
            {
                return Problems.NotFound("Job");
            }

            if (requested == 1)
            {
                return TypedResults.Accepted($"/api/jobs/{id}", JobResponse.From(job));
            }

            if (Job.IsTerminal(job.Status))
            {
                return Problems.Conflict($"The job is already {job.Status}.");
            }
        }

        return Problems.Conflict("The job kept changing status; try again.");
    }

    public static async Task<Results<ServerSentEventsResult<JobResponse>, ProblemHttpResult>> JobEvents(
        long id, [AsParameters] RequestScope scope, IHostApplicationLifetime lifetime, IOptions<JobsOptions> options)
    {
        return await FindAsync(scope.Db, scope.Http.User, id, scope.Aborted) is null
            ? Problems.NotFound("Job")
            : TypedResults.ServerSentEvents(Follow(id, scope.Db, scope.Clock, options.Value, lifetime.ApplicationStopping, scope.Aborted));
    }

    /// <summary>
    /// Polls the job until it ends, the client goes, the process stops, or Jobs:EventStreamLifetime passes: an open stream
    /// would otherwise hold the shutdown for Host:ShutdownTimeout, and the job runner's hand-back of running jobs with it.
    /// The client reconnects (EventSource does), to another process. Unchanged for Jobs:EventStreamKeepAlive, the job is
    /// sent again, so that no proxy takes the stream for idle.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<JobResponse>> Follow(
        long id, EmporiumDbContext db, TimeProvider clock, JobsOptions options, CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        var started = clock.GetTimestamp();
        var sent = started;
        string? last = null;
        while (!ends.IsCancellationRequested && clock.GetElapsedTime(started) < options.EventStreamLifetime)
        {
            var job = await db.Set<Job>().AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, cancellationToken);
            if (job is null)
            {
                yield break;
            }

            // updated_at moves with every heartbeat; only what a watcher cares about counts as a change.
            var state = $"{job.Status}|{job.Attempts}|{job.CancelRequested}|{job.Progress}|{job.LastError}|{job.NextRunAt:o}";
            if (Job.IsTerminal(job.Status))
            {
                yield return new SseItem<JobResponse>(JobResponse.From(job), "done");
                yield break;
            }

            if (state != last || clock.GetElapsedTime(sent) >= options.EventStreamKeepAlive)
            {
                last = state;
                sent = clock.GetTimestamp();
                yield return new SseItem<JobResponse>(JobResponse.From(job), "progress");
            }

            await Task.Delay(EventsPollInterval, ends.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A job that acts on the catalog for its requester carries who that was (requested_by) and their reach as it was
    /// when queued (own_products_only, from CatalogScope; decision 0013); one queued before the reach was recorded
    /// reached the whole catalog. A requester since demoted to seller may not run again what staff rights queued.
    /// </summary>
    private static bool QueuedWithTheStoresReach(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        return root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("requested_by", out _)
            && !(root.TryGetProperty("own_products_only", out var own) && own.ValueKind == JsonValueKind.True);
    }

    private static Task<Job?> FindAsync(EmporiumDbContext db, ClaimsPrincipal user, long id, CancellationToken cancellationToken) =>
        VisibleJobs(db, user).FirstOrDefaultAsync(j => j.Id == id, cancellationToken);

    /// <summary>Every job for those who run the store; a seller's own (decision 0013). Others' jobs are simply not there.</summary>
    internal static IQueryable<Job> VisibleJobs(EmporiumDbContext db, ClaimsPrincipal user)
    {
        var jobs = db.Set<Job>().AsNoTracking();
        if (user.IsStaffOrAdmin())
        {
            return jobs;
        }

        var userId = user.UserId();
        return jobs.Where(j => j.RequestedBy != null && j.RequestedBy == userId);
    }
}
