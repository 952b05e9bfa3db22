using System.ComponentModel.DataAnnotations;

namespace Emporium.Features.Jobs;

/// <summary>The job engine's settings (section Jobs).</summary>
public sealed class JobsOptions : IValidatableObject
{
    public const string Section = "Jobs";

    /// <summary>How long a claim lasts without a heartbeat; heartbeats come every third of it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Jobs one worker process runs at once.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 2;

    /// <summary>How often an idle worker looks for due retries and expired leases without being signalled.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Delay before attempt 2, 3, ...; the last entry repeats. Each gets up to ±20 % jitter.</summary>
    public List<TimeSpan> RetryDelays { get; set; } = [];

    /// <summary>Attempts before a failing job is DEAD.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// The job kinds this process's worker takes (<see cref="JobKinds"/>): e.g. <c>image.*</c> for an image-processing
    /// service, <c>!image.*</c> for the other workers. Empty: every kind.
    /// </summary>
    public string? Kinds { get; set; }

    /// <summary>The parsed <see cref="Kinds"/> (valid once the options have been validated at start-up).</summary>
    public JobKinds KindFilter => JobKinds.Parse(Kinds, out _) ?? JobKinds.All;

    /// <summary>Progress reports are written at most this often (the last one always is).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A job's event stream sends the job again after this long without a change, so proxies and load balancers that cut
    /// idle connections (often after 60 s) leave a stream of a job waiting for a retry or a worker open.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:05:00")]
    public TimeSpan EventStreamKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A job's event stream ends after this long (EventSource reconnects by itself, and the reconnection checks the
    /// caller's access again): a stream outlived its access token, a lock or a demotion, and held a connection for ever.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan EventStreamLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a job that ended (completed, failed, dead or cancelled) and a worker process silent since are kept; then
    /// workers delete them, every <see cref="RetentionSweepInterval"/>. As long as an import's errors.csv by default.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan RetainFor { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromHours(1);

    public static readonly TimeSpan[] DefaultRetryDelays =
        [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10)];

    /// <summary>The configured schedule, or the default when none is set (a bound list appends to its initial value).</summary>
    public IReadOnlyList<TimeSpan> Schedule => RetryDelays.Count > 0 ? RetryDelays : DefaultRetryDelays;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseDuration < TimeSpan.FromSeconds(1) || LeaseDuration > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Jobs:LeaseDuration must be between 00:00:01 and 01:00:00.", [nameof(LeaseDuration)]);
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Jobs:PollInterval must be between 00:00:00.01 and 00:10:00.", [nameof(PollInterval)]);
        }

        // A delay past the calendar's end (a bare "3000000" reads as days) overflowed when a failed attempt was scheduled,
        // and the job waited out its lease instead of its retry.
        if (RetryDelays.Any(delay => delay < TimeSpan.Zero || delay > TimeSpan.FromDays(7)))
        {
            yield return new ValidationResult("Jobs:RetryDelays must be delays between 0 and 7.00:00:00.", [nameof(RetryDelays)]);
        }

        if (JobKinds.Parse(Kinds, out var kindsError) is null)
        {
            yield return new ValidationResult(kindsError, [nameof(Kinds)]);
        }

        if (ProgressInterval < TimeSpan.Zero)
        {
            yield return new ValidationResult("Jobs:ProgressInterval must not be negative.", [nameof(ProgressInterval)]);
        }
    }
}
