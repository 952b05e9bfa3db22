using Emporium.Data;
using Emporium.Features.Events;
using Emporium.Features.Webhooks;
using Emporium.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>
/// The claim, read through the store with no dispatcher running (an API-only process): when more deliveries are due than
/// a batch takes, every subscription gets its turn, not only those the scan meets first (operations.md: "Other
/// subscriptions are never held up").
/// </summary>
public abstract class WebhookClaimTests(EmporiumApp app)
{
    [Fact]
    public async Task A_full_batch_takes_the_longest_due_deliveries_across_subscriptions_not_the_first_subscriptions_all()
    {
        var now = DateTime.UtcNow;
        var subscriptions = await app.WithDbAsync(async db =>
        {
            var created = Enumerable.Range(0, 3).Select(i => new WebhookSubscription
            {
                Url = $"https://receiver{i}.example.com/hook", Secret = "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdA==", CreatedAt = now, UpdatedAt = now,
            }).ToList();
            db.AddRange(created);
            await db.SaveChangesAsync();

            // Nine events, each for one subscription in turn: the first subscription's are not the oldest due.
            for (var i = 0; i < 9; i++)
            {
                var due = now.AddSeconds(-90 + (10 * i));
                var @event = new OutboxEvent { EventId = $"evt_{Guid.NewGuid():N}", Type = "product.updated", OccurredAt = due, DispatchedAt = due };
                db.Add(@event);
                await db.SaveChangesAsync();
                db.Add(new WebhookDelivery
                {
                    SubscriptionId = created[(i + 1) % 3].Id, EventId = @event.Id, NextAttemptAt = due, CreatedAt = due, UpdatedAt = due,
                });
            }

            await db.SaveChangesAsync();
            return created.Select(s => s.Id).ToList();
        });

        using var scope = app.Services.CreateScope();
        var store = scope.ServiceProvider.GetRequiredService<IWebhookDeliveryStore>();
        var claimed = await store.ClaimAsync("test-worker", now, TimeSpan.FromMinutes(1), perSubscription: 3, new Dictionary<long, int>(), max: 3, CancellationToken.None);

        claimed.Select(c => c.SubscriptionId).Should().BeEquivalentTo(subscriptions, "one slot each: the three longest due are one per subscription");
    }
}

public sealed class WebhookClaimApiOnlySqliteApp : SqliteApp
{
    public WebhookClaimApiOnlySqliteApp() => With("Emporium:Role", "Api");
}

public sealed class WebhookClaimApiOnlyPostgresApp : PostgresApp
{
    public WebhookClaimApiOnlyPostgresApp() => With("Emporium:Role", "Api");
}

public sealed class WebhookClaimTestsOnSqlite(WebhookClaimApiOnlySqliteApp app) : WebhookClaimTests(app), IClassFixture<WebhookClaimApiOnlySqliteApp>;

public sealed class WebhookClaimTestsOnPostgres(WebhookClaimApiOnlyPostgresApp app) : WebhookClaimTests(app), IClassFixture<WebhookClaimApiOnlyPostgresApp>;
