using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Jobs;

/// <summary>Where a job is in its life. Stored as the upper-case name, so SQL and the API read the same.</summary>
public enum JobStatus
{
    PENDING,
    PROCESSING,
    COMPLETED,
    FAILED,
    CANCELLED,
    DEAD,
}

/// <summary>
/// One unit of background work. The row is the source of truth (docs/decisions/0004-durable-jobs.md):
/// transports only say "something is ready"; a worker owns a job only while its lease lasts.
/// </summary>
public sealed class Job
{
    public long Id { get; set; }

    /// <summary>Selects the <see cref="IJobHandler"/>, e.g. "diagnostics.sleep".</summary>
    public string Kind { get; set; } = "";

    /// <summary>JSON given at enqueue time.</summary>
    public string Payload { get; set; } = "{}";

    public JobStatus Status { get; set; } = JobStatus.PENDING;

    /// <summary>Attempts started so far (a claim counts one; a shutdown release gives it back).</summary>
    public int Attempts { get; set; }

    public int MaxAttempts { get; set; }

    /// <summary>A PENDING job is not claimed before this instant (retries back off through it).</summary>
    public DateTime NextRunAt { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>JSON {processed, total, percent, rows_per_second, eta_seconds, message} written by the runner.</summary>
    public string? Progress { get; set; }

    /// <summary>JSON stored by a handler that completed.</summary>
    public string? Result { get; set; }

    public string? LastError { get; set; }

    /// <summary>Set by a cancel of a running job; the runner sees it at its next heartbeat.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>The user whose request queued the job (null for the system's own work); sellers see only their own jobs.</summary>
    public long? RequestedBy { get; set; }

    /// <summary>The W3C traceparent of the request (or job) that queued this one: its run continues that trace.</summary>
    public string? TraceParent { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public static bool IsTerminal(JobStatus status) =>
        status is JobStatus.COMPLETED or JobStatus.FAILED or JobStatus.CANCELLED or JobStatus.DEAD;
}

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public const int KindLength = 100;
    public const int LeaseOwnerLength = 200;

    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("jobs");
        builder.Property(j => j.Kind).HasMaxLength(KindLength);
        builder.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.LeaseOwner).HasMaxLength(LeaseOwnerLength);
        builder.Property(j => j.TraceParent).HasMaxLength(Platform.Telemetry.TraceContext.MaxLength);
        // The claim query looks for due PENDING rows and expired PROCESSING rows, oldest first.
        builder.HasIndex(j => new { j.Status, j.NextRunAt });
        builder.HasIndex(j => j.Kind);
        builder.HasOne<Identity.User>().WithMany().HasForeignKey(j => j.RequestedBy).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(j => j.RequestedBy);
    }
}
