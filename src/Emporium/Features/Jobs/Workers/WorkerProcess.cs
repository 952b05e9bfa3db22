using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Jobs.Workers;

/// <summary>
/// A worker process as it last reported itself (table workers): registered at start, renewed every
/// Workers:HeartbeatInterval, marked stopped when it shuts down. One that stopped renewing without saying so is lost.
/// </summary>
public sealed class WorkerProcess
{
    /// <summary>The lease owner its job runner writes on the jobs it holds: machine, process id and a random part.</summary>
    public string Id { get; set; } = "";

    public string Host { get; set; } = "";

    public int ProcessId { get; set; }

    /// <summary>Emporium:Role of the process: Worker or All.</summary>
    public string Role { get; set; } = "";

    /// <summary>Jobs:Kinds as configured ("every kind" when unset).</summary>
    public string Kinds { get; set; } = "";

    public int Concurrency { get; set; }

    /// <summary>The build it runs (the assembly's informational version).</summary>
    public string Version { get; set; } = "";

    public DateTime StartedAt { get; set; }

    public DateTime HeartbeatAt { get; set; }

    public DateTime? StoppedAt { get; set; }

    public long JobsCompleted { get; set; }

    public long JobsFailed { get; set; }

    /// <summary>Jobs finished (completed or failed) per minute over the last five minutes.</summary>
    public double JobsPerMinute { get; set; }
}

internal sealed class WorkerProcessConfiguration : IEntityTypeConfiguration<WorkerProcess>
{
    public void Configure(EntityTypeBuilder<WorkerProcess> builder)
    {
        builder.ToTable("workers");
        builder.Property(w => w.Id).HasMaxLength(JobConfiguration.LeaseOwnerLength);
        builder.Property(w => w.Host).HasMaxLength(255);
        builder.Property(w => w.Role).HasMaxLength(16);
        builder.Property(w => w.Kinds).HasMaxLength(500);
        builder.Property(w => w.Version).HasMaxLength(100);
        builder.HasIndex(w => w.HeartbeatAt);
    }
}
