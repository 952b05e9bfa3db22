using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Emporium.Features.Events;

/// <summary>
/// Something that happened, written in the same transaction as the change it describes (docs/decisions/0006-events-outbox.md):
/// a rolled-back change leaves no event and a committed one is never lost. Webhooks (and anything later) read from here.
/// </summary>
public sealed class OutboxEvent
{
    /// <summary>Ascending in commit-ish order; readers page through events by it.</summary>
    public long Id { get; set; }

    /// <summary>The public id, "evt_" + a version-7 GUID: the webhook-id of every delivery of this event.</summary>
    public string EventId { get; set; } = "";

    /// <summary>One of <see cref="EventTypes"/>, e.g. "product.updated".</summary>
    public string Type { get; set; } = "";

    /// <summary>The JSON the REST API returns for the subject (a product, a job), serialized when the event was written.</summary>
    public string Data { get; set; } = "{}";

    public DateTime OccurredAt { get; set; }

    /// <summary>The W3C traceparent current when the event was written: its webhook deliveries continue that trace.</summary>
    public string? TraceParent { get; set; }

    /// <summary>
    /// When the event was handed to its consumers (webhook fan-out); null until then. A flag per row rather than a
    /// cursor over ids, because ids are assigned at insert and commits can land out of id order.
    /// </summary>
    public DateTime? DispatchedAt { get; set; }
}

internal sealed class OutboxEventConfiguration : IEntityTypeConfiguration<OutboxEvent>
{
    public const int EventIdLength = 40;
    public const int TypeLength = 100;

    public void Configure(EntityTypeBuilder<OutboxEvent> builder)
    {
        builder.ToTable("events");
        builder.Property(e => e.EventId).HasMaxLength(EventIdLength);
        builder.Property(e => e.Type).HasMaxLength(TypeLength);
        builder.Property(e => e.TraceParent).HasMaxLength(Platform.Telemetry.TraceContext.MaxLength);
        builder.HasIndex(e => e.EventId).IsUnique();
        builder.HasIndex(e => new { e.Type, e.Id });
        // The fan-out finds undispatched events through this small partial index, however long the history grows.
        builder.HasIndex(e => e.Id).HasDatabaseName("ix_events_undispatched").HasFilter("dispatched_at IS NULL");
    }
}
