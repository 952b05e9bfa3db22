namespace Emporium.Features.Jobs.Workers;

/// <summary>A job a worker holds right now.</summary>
public sealed record WorkerJobResponse(
    long Id,
    string Kind,
    [property: Description("Percent done, when the job reports a total.")] double? Percent,
    [property: Description("When the worker's lease on the job ends: for a lost worker, when another worker may take the job over.")]
    DateTime? LeaseExpiresAt);

/// <summary>A worker process as the workers table shows it.</summary>
public sealed record WorkerResponse(
    [property: Description("The lease owner its jobs carry: machine, process id and a random part.")] string Id,
    string Host,
    int ProcessId,
    [property: Description("Worker or All (API and worker in one process).")] string Role,
    [property: Description("The job kinds it takes (Jobs:Kinds).")] string Kinds,
    [property: Description("Jobs it runs at once (Jobs:Concurrency).")] int Concurrency,
    string Version,
    [property: Description("online (heartbeat within three intervals), lost (silent for longer: its jobs go to other workers as their leases expire) or stopped (shut down).")]
    string Status,
    DateTime StartedAt,
    DateTime HeartbeatAt,
    DateTime? StoppedAt,
    long JobsCompleted,
    long JobsFailed,
    [property: Description("Jobs finished per minute over its last five minutes, as of its last heartbeat.")] double JobsPerMinute,
    [property: Description("The jobs it holds now (PROCESSING under its lease).")] IReadOnlyList<WorkerJobResponse> CurrentJobs);

public sealed record WorkerList(IReadOnlyList<WorkerResponse> Results);

public static class WorkerEndpoints
{
    public static IEndpointRouteBuilder MapWorkers(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/workers", ListWorkers)
            .WithTags("Jobs")
            .RequireAuthorization(Policies.Staff)
            .Documented("List worker processes", "Every worker process seen within Workers:ListFor (a day), online ones first: its role, the job kinds it "
                + "takes, the jobs it holds now, what it has finished and its recent throughput. A worker that stopped renewing its heartbeat is lost; "
                + "the jobs it held are taken over by other workers when their leases expire. Staff and admins.");
        return app;
    }

    public static async Task<Ok<WorkerList>> ListWorkers(
        EmporiumDbContext db, IOptions<WorkersOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var since = now - options.Value.ListFor;
        var lostBefore = now - (options.Value.HeartbeatInterval * 3);
        var workers = await db.Set<WorkerProcess>().AsNoTracking().Where(w => w.HeartbeatAt >= since).ToListAsync(cancellationToken);
        var ids = workers.Select(w => w.Id).ToList();
        var held = await db.Set<Job>().AsNoTracking()
            .Where(j => j.Status == JobStatus.PROCESSING && j.LeaseOwner != null && ids.Contains(j.LeaseOwner))
            .OrderBy(j => j.Id)
            .Select(j => new { j.Id, j.Kind, j.Progress, j.LeaseExpiresAt, j.LeaseOwner })
            .ToListAsync(cancellationToken);
        string StatusOf(WorkerProcess w) => w.StoppedAt is not null ? "stopped" : w.HeartbeatAt < lostBefore ? "lost" : "online";
        var results = workers
            .OrderBy(w => StatusOf(w) switch { "online" => 0, "lost" => 1, _ => 2 })
            .ThenByDescending(w => w.StartedAt)
            .Select(w => new WorkerResponse(
                w.Id, w.Host, w.ProcessId, w.Role, w.Kinds, w.Concurrency, w.Version, StatusOf(w), w.StartedAt, w.HeartbeatAt, w.StoppedAt,
                w.JobsCompleted, w.JobsFailed, w.JobsPerMinute,
                [.. held.Where(j => j.LeaseOwner == w.Id).Select(j => new WorkerJobResponse(
                    j.Id, j.Kind, j.Progress is null ? null : JsonSerializer.Deserialize<JobProgressResponse>(j.Progress, JobJson.Options)?.Percent, j.LeaseExpiresAt))]))
            .ToList();
        return TypedResults.Ok(new WorkerList(results));
    }
}
