using Emporium.Features.Events;
using Emporium.Features.Webhooks;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>
/// Events and ended webhook deliveries are deleted after Events:RetainFor (30 days); an event a delivery still waits for,
/// or one never handed to the webhooks, stays. API-only apps: no worker fans out or sends the rows written here.
/// </summary>
public abstract class EventRetentionTests(EmporiumApp app)
{
    [Fact]
    public async Task Old_events_and_ended_deliveries_are_deleted_and_what_a_delivery_still_needs_is_kept()
    {
        var now = DateTime.UtcNow;
        var old = now.AddDays(-31);
        var (events, deliveries) = await app.WithDbAsync(async db =>
        {
            var subscription = new WebhookSubscription { Url = "https://receiver.example/hook", Secret = WebhookSignature.NewSecret(), CreatedAt = old, UpdatedAt = old, IsActive = false };
            db.Add(subscription);
            OutboxEvent Event(DateTime occurred, DateTime? dispatched) => new()
            {
                EventId = EventOutbox.NewEventId(), Type = EventTypes.ProductUpdated, OccurredAt = occurred, DispatchedAt = dispatched,
            };
            var events = new[]
            {
                Event(old, old),            // 0: its delivery succeeded long ago: both go
                Event(old, old),            // 1: its delivery failed long ago: both go
                Event(old, old),            // 2: its delivery still waits: both stay
                Event(old, old),            // 3: its delivery ended yesterday (a recover): both stay
                Event(old, old),            // 4: no delivery (no subscriber then): goes
                Event(old, null),           // 5: never handed to the webhooks: stays
                Event(now.AddDays(-1), now), // 6: recent: stays
            };
            db.AddRange(events);
            await db.SaveChangesAsync();
            WebhookDelivery Delivery(OutboxEvent e, WebhookDeliveryStatus status, DateTime updated) => new()
            {
                SubscriptionId = subscription.Id, EventId = e.Id, Status = status, NextAttemptAt = updated, CreatedAt = old, UpdatedAt = updated,
                AttemptLog = [new WebhookAttempt { Number = 1, StartedAt = old, FinishedAt = old, StatusCode = 500, Worker = "w" }],
            };
            var deliveries = new[]
            {
                Delivery(events[0], WebhookDeliveryStatus.SUCCEEDED, old),
                Delivery(events[1], WebhookDeliveryStatus.FAILED, old),
                Delivery(events[2], WebhookDeliveryStatus.PENDING, old),
                Delivery(events[3], WebhookDeliveryStatus.SUCCEEDED, now.AddDays(-1)),
            };
            db.AddRange(deliveries);
            await db.SaveChangesAsync();
            return (events.Select(e => e.Id).ToArray(), deliveries.Select(d => d.Id).ToArray());
        });

        var swept = await app.Services.GetRequiredService<EventRetention>().SweepAsync(CancellationToken.None);

        swept.Should().BeGreaterThanOrEqualTo(5);
        (await app.WithDbAsync(db => db.Set<OutboxEvent>().Where(e => events.Contains(e.Id)).Select(e => e.Id).ToListAsync()))
            .Should().BeEquivalentTo([events[2], events[3], events[5], events[6]]);
        (await app.WithDbAsync(db => db.Set<WebhookDelivery>().Where(d => deliveries.Contains(d.Id)).Select(d => d.Id).ToListAsync()))
            .Should().BeEquivalentTo([deliveries[2], deliveries[3]]);
        (await app.WithDbAsync(db => db.Set<WebhookAttempt>().CountAsync(a => deliveries.Contains(a.DeliveryId)))).Should().Be(2, "attempts go with their delivery");
    }
}

public sealed class EventRetentionTestsOnSqlite(WebhookClaimApiOnlySqliteApp app) : EventRetentionTests(app), IClassFixture<WebhookClaimApiOnlySqliteApp>;

public sealed class EventRetentionTestsOnPostgres(WebhookClaimApiOnlyPostgresApp app) : EventRetentionTests(app), IClassFixture<WebhookClaimApiOnlyPostgresApp>;
