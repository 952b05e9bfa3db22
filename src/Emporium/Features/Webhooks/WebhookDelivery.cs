using Emporium.Features.Events;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Webhooks;

/// <summary>Where one delivery is. Stored as the upper-case name, so SQL and the API read the same.</summary>
public enum WebhookDeliveryStatus
{
    /// <summary>Waiting for its first attempt or its next retry (<see cref="WebhookDelivery.NextAttemptAt"/>).</summary>
    PENDING,

    /// <summary>An attempt is in flight under a worker's lease; if the worker dies, the lease expires and it is sent again.</summary>
    SENDING,

    /// <summary>The receiver answered 2xx.</summary>
    SUCCEEDED,

    /// <summary>
    /// Given up: every attempt of the retry schedule failed, or the delivery was not sent because its subscription was
    /// disabled (<see cref="WebhookDelivery.LastError"/> says which). POST .../retry or .../recover sends it once more.
    /// </summary>
    FAILED,
}

/// <summary>
/// One event on its way to one subscription (docs/decisions/0007-webhooks.md). Written by the fan-out, claimed in batches
/// by workers under a lease; every attempt is logged in <see cref="WebhookAttempt"/>.
/// </summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }

    public long SubscriptionId { get; set; }

    /// <summary>The events row (internal id); its event_id is the webhook-id of every attempt.</summary>
    public long EventId { get; set; }

    public OutboxEvent? Event { get; set; }

    public WebhookDeliveryStatus Status { get; set; } = WebhookDeliveryStatus.PENDING;

    /// <summary>Attempts started so far, including one whose worker died; attempt n has the id att_{delivery}_{n}.</summary>
    public int Attempts { get; set; }

    /// <summary>
    /// PENDING: not attempted before this instant. SENDING: the lease's expiry, so one index finds both due retries and
    /// deliveries whose worker died.
    /// </summary>
    public DateTime NextAttemptAt { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? SucceededAt { get; set; }

    public List<WebhookAttempt> AttemptLog { get; set; } = [];

    public static string AttemptIdOf(long deliveryId, int number) =>
        $"att_{deliveryId.ToString(System.Globalization.CultureInfo.InvariantCulture)}_{number.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// One HTTP attempt of a delivery. The row is written when the attempt is claimed, before anything is sent, so every
/// request a receiver saw is accounted for, even when the worker died before it could record the answer.
/// </summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }

    public long DeliveryId { get; set; }

    /// <summary>1, 2, ...: unique per delivery, so an attempt id (emporium-attempt-id header) is never sent twice.</summary>
    public int Number { get; set; }

    public DateTime StartedAt { get; set; }

    /// <summary>Null while in flight, and for ever when the worker died during the attempt.</summary>
    public DateTime? FinishedAt { get; set; }

    public int? StatusCode { get; set; }

    /// <summary>Null on success; status, timeout, connection, blocked_address, blocked_scheme or interrupted (<see cref="WebhookFailures"/>).</summary>
    public string? Failure { get; set; }

    public string? Error { get; set; }

    public int? DurationMs { get; set; }

    /// <summary>The first 4 KB of the receiver's answer.</summary>
    public string? ResponseBody { get; set; }

    /// <summary>The worker that made the attempt (its lease owner).</summary>
    public string Worker { get; set; } = "";
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public const int LeaseOwnerLength = 200;
    public const int ErrorLength = 1000;

    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.LeaseOwner).HasMaxLength(LeaseOwnerLength);
        builder.Property(d => d.LastError).HasMaxLength(ErrorLength);
        builder.HasOne<WebhookSubscription>().WithMany().HasForeignKey(d => d.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(d => d.Event).WithMany().HasForeignKey(d => d.EventId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        // The claim walks each subscription's due deliveries through this small partial index (finished rows leave it).
        builder.HasIndex(d => new { d.SubscriptionId, d.NextAttemptAt })
            .HasDatabaseName("ix_webhook_deliveries_due")
            .HasFilter("status IN ('PENDING', 'SENDING')");
        // The delivery log: a subscription's deliveries newest first (and recover's FAILED-since scan).
        builder.HasIndex(d => new { d.SubscriptionId, d.Id });
        builder.HasIndex(d => d.EventId);
    }
}

internal sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> builder)
    {
        builder.ToTable("webhook_attempts");
        builder.Property(a => a.Failure).HasMaxLength(16);
        builder.Property(a => a.Error).HasMaxLength(WebhookDeliveryConfiguration.ErrorLength);
        builder.Property(a => a.ResponseBody).HasMaxLength(WebhooksOptions.ResponseBodyLimit);
        builder.Property(a => a.Worker).HasMaxLength(WebhookDeliveryConfiguration.LeaseOwnerLength);
        // The database itself refuses a second attempt with the same number: an attempt id is never reused.
        builder.HasIndex(a => new { a.DeliveryId, a.Number }).IsUnique();
    }
}
