namespace Emporium.Features.Jobs;

/// <summary>
/// Adds jobs to the caller's unit of work (the outbox): the row is saved by the caller's SaveChanges, in
/// its transaction, so a rolled-back change enqueues nothing. Workers are signalled after the commit by
/// <see cref="Infrastructure.Jobs.OutboxSignalInterceptor"/>.
/// </summary>
public interface IJobQueue
{
    /// <summary>
    /// Adds a PENDING job to the current unit of work; its id is set by the caller's SaveChanges. The payload is
    /// serialized as snake_case JSON (a string is taken as JSON text already). <paramref name="requestedBy"/> is the user the
    /// job works for: they (and staff) may follow, cancel and retry it.
    /// </summary>
    Job Enqueue(string kind, object? payload, int? maxAttempts = null, long? requestedBy = null);
}

internal sealed class JobQueue(EmporiumDbContext db, TimeProvider clock, IOptions<JobsOptions> options) : IJobQueue
{
    public Job Enqueue(string kind, object? payload, int? maxAttempts = null, long? requestedBy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        var now = clock.GetUtcNow().UtcDateTime;
        var job = new Job
        {
            Kind = kind,
            Payload = payload switch
            {
                null => "{}",
                string json => ValidJson(json),
                _ => JsonSerializer.Serialize(payload, JobJson.Options),
            },
            Status = JobStatus.PENDING,
            MaxAttempts = maxAttempts ?? options.Value.MaxAttempts,
            NextRunAt = now,
            RequestedBy = requestedBy,
            TraceParent = Platform.Telemetry.TraceContext.Current(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(job);
        return job;
    }

    private static string ValidJson(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return json;
        }
        catch (JsonException exception)
        {
            throw new ArgumentException("A string payload must be JSON text.", nameof(json), exception);
        }
    }
}
