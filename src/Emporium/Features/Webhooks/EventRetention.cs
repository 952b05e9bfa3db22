using Emporium.Features.Events;
using Emporium.Platform.Workers;

namespace Emporium.Features.Webhooks;

/// <summary>
/// Deletes, every Events:RetentionSweepInterval in worker processes, the webhook deliveries that ended more than
/// Events:RetainFor ago (their attempts go with them: each keeps up to 4 KB of the receiver's answer), then the events
/// older than that which no delivery still needs: every product edit, stock change and order writes one. Here rather than
/// in Events, since only the webhooks know which events they still need.
/// </summary>
internal sealed class EventRetention(
    IServiceScopeFactory scopes,
    IOptions<EventsOptions> settings,
    IOptions<EmporiumOptions> emporium,
    TimeProvider clock,
    ILogger<EventRetention> logger) : PeriodicSweep(emporium, clock, logger, "webhook deliveries and events past Events:RetainFor")
{
    protected override TimeSpan Interval => settings.Value.RetentionSweepInterval;

    public override async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Clock.GetUtcNow().UtcDateTime - settings.Value.RetainFor;
        // Checked again as each chunk is deleted: a delivery retried or recovered meanwhile is waiting again.
        var deliveries = await DeleteInChunksAsync<WebhookDelivery>(
            scopes,
            d => (d.Status == WebhookDeliveryStatus.SUCCEEDED || d.Status == WebhookDeliveryStatus.FAILED) && d.UpdatedAt < cutoff,
            cancellationToken);
        // Deleting an event would delete its deliveries with it: one still waiting or in flight keeps it, as does an event
        // not yet handed to the webhooks (workers down for longer than Events:RetainFor).
        var events = await DeleteInChunksAsync<OutboxEvent>(
            scopes,
            db => e => e.DispatchedAt != null && e.OccurredAt < cutoff && !db.Set<WebhookDelivery>().Any(d => d.EventId == e.Id),
            cancellationToken);
        return deliveries + events;
    }
}
