namespace Emporium.Features.Jobs;

/// <summary>
/// Runs the jobs of one kind: registered with <see cref="JobHandlerRegistration.AddJobHandler{THandler}"/> under it, and
/// built only for a job of that kind. Handlers must be idempotent: a job whose worker died is run again from the start
/// (or from the handler's own checkpoint) once its lease expires.
/// </summary>
public interface IJobHandler
{
    /// <summary>
    /// Returns normally to complete the job; throws to retry it (or <see cref="PermanentJobFailure"/> to fail
    /// it at once). <paramref name="cancellationToken"/> fires on cancel, shutdown or a lost lease.
    /// </summary>
    Task HandleAsync(JobContext context, CancellationToken cancellationToken);
}

/// <summary>A failure that another attempt cannot fix (e.g. a file with no header): the job becomes FAILED.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "The design (decision 0004) names the outcome, not the mechanism.")]
public sealed class PermanentJobFailure(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What a handler knows about its job, and how it reports back.</summary>
public sealed class JobContext
{
    private readonly Func<JobProgress, bool, CancellationToken, Task> _report;
    private readonly Func<string, CancellationToken, Task>? _checkpoint;
    private readonly Func<JobProgress, string, EmporiumDbContext, CancellationToken, Task>? _checkpointWithin;

    internal JobContext(
        long id,
        string kind,
        string payload,
        int attempt,
        int maxAttempts,
        Func<JobProgress, bool, CancellationToken, Task> report,
        string? checkpoint = null,
        Func<string, CancellationToken, Task>? saveCheckpoint = null,
        Func<JobProgress, string, EmporiumDbContext, CancellationToken, Task>? saveCheckpointWithin = null)
    {
        Checkpoint = checkpoint;
        _checkpoint = saveCheckpoint;
        _checkpointWithin = saveCheckpointWithin;
        Id = id;
        Kind = kind;
        Payload = payload;
        Attempt = attempt;
        MaxAttempts = maxAttempts;
        _report = report;
    }

    public long Id { get; }

    public string Kind { get; }

    /// <summary>The JSON given at enqueue time.</summary>
    public string Payload { get; }

    /// <summary>1 for the first attempt.</summary>
    public int Attempt { get; }

    public int MaxAttempts { get; }

    /// <summary>
    /// The JSON an earlier attempt of this job saved with <see cref="SaveCheckpointAsync"/> (null on a first attempt or
    /// after a manual retry): where to resume instead of starting over.
    /// </summary>
    public string? Checkpoint { get; }

    /// <summary>Set with <see cref="SetResult{T}"/>; stored as the job's result when it completes.</summary>
    internal string? ResultJson { get; private set; }

    public T ReadPayload<T>() =>
        JsonSerializer.Deserialize<T>(Payload, JobJson.Options) ?? throw new PermanentJobFailure($"The payload of job {Id} is empty.");

    /// <summary>Stores progress; written at most once per Jobs:ProgressInterval unless the work is done (processed == total).</summary>
    public Task ReportProgressAsync(long processed, long? total, string? message = null, CancellationToken cancellationToken = default) =>
        _report(new JobProgress(processed, total, message), total is { } t && processed >= t, cancellationToken);

    /// <summary>
    /// Stores <paramref name="json"/> with the job row at once (not throttled), so that an attempt taken after a crash
    /// reads it back as <see cref="Checkpoint"/>. Save it only after the work it describes is committed.
    /// </summary>
    public Task SaveCheckpointAsync(string json, CancellationToken cancellationToken = default) =>
        _checkpoint is null ? Task.CompletedTask : _checkpoint(json, cancellationToken);

    /// <summary>
    /// Stores progress and the checkpoint <paramref name="json"/> through <paramref name="db"/>, inside the transaction it
    /// has open, so that the checkpoint commits exactly when the work it describes does. Saved after the commit instead,
    /// a crash between the two leaves committed work behind the checkpoint, which the next attempt does (and counts)
    /// again. The write extends the job's lease, as a heartbeat does. Throws when this worker no longer holds the job (its
    /// lease expired and another attempt may be running): the transaction must then roll back. If the transaction does
    /// not commit, end the attempt.
    /// </summary>
    public Task SaveCheckpointAsync(long processed, long? total, string? message, string json, EmporiumDbContext db, CancellationToken cancellationToken = default) =>
        _checkpointWithin is null
            ? Task.CompletedTask
            : _checkpointWithin(new JobProgress(processed, total, message), json, db, cancellationToken);

    public void SetResult<T>(T result) => ResultJson = JsonSerializer.Serialize(result, JobJson.Options);
}

public sealed record JobProgress(long Processed, long? Total, string? Message);

/// <summary>snake_case JSON for payloads, progress and results, like the API.</summary>
public static class JobJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}

/// <summary>
/// Implemented by a handler whose jobs announce how they ended: the runner writes the event (data: the job as
/// GET /api/jobs/{id} returns it) in the same transaction that records the outcome, so it exists exactly when the
/// job is COMPLETED, or FAILED/DEAD for <see cref="FailedEventType"/>. Cancelled jobs announce nothing.
/// </summary>
public interface IJobOutcomeEvents
{
    /// <summary>An <see cref="Events.EventTypes"/> name, e.g. "import.completed".</summary>
    string CompletedEventType { get; }

    /// <summary>Null when a failure is not announced.</summary>
    string? FailedEventType { get; }
}

/// <summary>
/// Implemented by a handler whose own data must show that its job ended without success: the runner calls it in the
/// transaction that records FAILED or DEAD, with the job as recorded (its last_error says why), also when the worker died
/// during the last attempt and no handler ran. It is given the scope's EmporiumDbContext through its constructor; the
/// transaction is that context's.
/// </summary>
public interface IJobFailureRecorder
{
    Task RecordFailureAsync(Job job, CancellationToken cancellationToken);
}

/// <summary>A kind this process has a handler for: its workers claim only those (<see cref="JobKinds.Handled"/>).</summary>
public sealed record HandledJobKind(string Kind);

public static class JobHandlerRegistration
{
    /// <summary>Registers <typeparamref name="THandler"/> (scoped) as the handler of the jobs of <paramref name="kind"/>.</summary>
    public static IServiceCollection AddJobHandler<THandler>(this IServiceCollection services, string kind)
        where THandler : class, IJobHandler =>
        services.AddKeyedScoped<IJobHandler, THandler>(kind).AddSingleton(new HandledJobKind(kind));
}
