namespace Emporium.Features.Jobs;

/// <summary>The 202 body of a request that queued a job (an import, a bulk delete): where to follow it.</summary>
public sealed record JobAccepted(
    long JobId,
    [property: Description("PENDING: the work runs in the background.")] string Status,
    [property: Description("GET it for status, progress and, when COMPLETED, the counts.")] string StatusUrl,
    [property: Description("Server-sent events with the job's progress until it is done.")] string EventsUrl)
{
    public static Accepted<JobAccepted> For(Job job) =>
        TypedResults.Accepted($"/api/jobs/{job.Id}", new JobAccepted(job.Id, job.Status.ToString(), $"/api/jobs/{job.Id}", $"/api/jobs/{job.Id}/events"));
}

public sealed record JobProgressResponse(
    long Processed,
    [property: Description("Null when the handler does not know the total yet.")] long? Total,
    double? Percent,
    [property: Description("Items processed per second in the current attempt.")] double? RowsPerSecond,
    [property: Description("Seconds left at the current rate; null without a total.")] double? EtaSeconds,
    string? Message);

public sealed record JobResponse(
    long Id,
    string Kind,
    [property: Description("PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED or DEAD.")] string Status,
    int Attempts,
    int MaxAttempts,
    [property: Description("True while a cancel of a running job waits for its worker to notice.")] bool CancelRequested,
    JobProgressResponse? Progress,
    [property: Description("What the handler stored on success (JSON), null otherwise.")] JsonElement? Result,
    [property: Description("The last attempt's error; kept while the job retries.")] string? ErrorMessage,
    [property: Description("The user whose request queued the job; null for the service's own work.")] long? RequestedBy,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    [property: Description("When a PENDING job may run next (retries back off through it).")] DateTime? NextRunAt)
{
    internal static JobResponse From(Job job) => new(
        job.Id,
        job.Kind,
        job.Status.ToString(),
        job.Attempts,
        job.MaxAttempts,
        job.CancelRequested,
        job.Progress is null ? null : JsonSerializer.Deserialize<JobProgressResponse>(job.Progress, JobJson.Options),
        job.Result is null ? null : JsonDocument.Parse(job.Result).RootElement.Clone(),
        job.LastError,
        job.RequestedBy,
        job.CreatedAt,
        job.StartedAt,
        job.FinishedAt,
        job.Status == JobStatus.PENDING ? job.NextRunAt : null);
}

public sealed record JobListQuery(
    [property: Description("Only jobs of this kind, e.g. diagnostics.sleep.")]
    [FromQuery(Name = "kind")] string? Kind,
    [property: Description("Only jobs in this status: PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED or DEAD (any case).")]
    [FromQuery(Name = "status")] string? Status);
