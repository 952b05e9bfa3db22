using System.Text.Json;
using Emporium.Features.Events;
using Emporium.Features.Webhooks;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>Loopback receivers allowed, plain http allowed, a retry schedule of 4 attempts 0.2 s apart, a 5 s timeout (a loaded machine answers a local receiver in time), fast polls.</summary>
public static class WebhookSettings
{
    public static readonly IReadOnlyDictionary<string, string> Fast = new Dictionary<string, string>
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:AllowHttp"] = "true",
        ["Webhooks:RetrySchedule:0"] = "00:00:00.2",
        ["Webhooks:RetrySchedule:1"] = "00:00:00.2",
        ["Webhooks:RetrySchedule:2"] = "00:00:00.2",
        ["Webhooks:Timeout"] = "00:00:05",
        ["Webhooks:LeaseDuration"] = "00:00:10",
        ["Webhooks:PollInterval"] = "00:00:00.05",
    };

    public static void Apply(EmporiumApp app)
    {
        foreach (var (key, value) in Fast)
        {
            app.With(key, value);
        }
    }
}

public class WebhooksSqliteApp : SqliteApp
{
    public WebhooksSqliteApp() => WebhookSettings.Apply(this);

    public string Database => ConnectionString;
}

public class WebhooksPostgresApp : PostgresApp
{
    public WebhooksPostgresApp() => WebhookSettings.Apply(this);

    public string Database => ConnectionString;
}

public sealed record TestSubscription(long Id, string Secret);

public static class WebhookDeliveryTestKit
{
    /// <summary>
    /// A subscription written straight to the database (the CRUD endpoints are another feature's). Earlier tests'
    /// subscriptions on the fixture are switched off first, so their receivers (gone by now) do not pile up retries.
    /// </summary>
    public static Task<TestSubscription> SubscribeAsync(this EmporiumApp app, Uri url, string eventTypes = "*", bool alone = true) =>
        app.WithDbAsync(async db =>
        {
            if (alone)
            {
                await db.Set<WebhookSubscription>().Where(s => s.IsActive).ExecuteUpdateAsync(set => set.SetProperty(s => s.IsActive, false));
            }

            var now = DateTime.UtcNow;
            var subscription = new WebhookSubscription
            {
                Url = url.ToString(),
                EventTypes = eventTypes,
                Secret = WebhookSignature.NewSecret(),
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Add(subscription);
            await db.SaveChangesAsync();
            return new TestSubscription(subscription.Id, subscription.Secret);
        });

    /// <summary>Writes <paramref name="count"/> events in one committed transaction, as a feature would; returns their ids.</summary>
    public static async Task<List<string>> WriteEventsAsync(this EmporiumApp app, int count = 1, string type = EventTypes.ProductUpdated)
    {
        using var scope = app.Services.CreateScope();
        var outbox = scope.ServiceProvider.GetRequiredService<IEventOutbox>();
        var marker = Guid.NewGuid().ToString("N")[..8];
        var events = Enumerable.Range(0, count).Select(i => outbox.Add(type, new { sku = $"SKU-{marker}-{i}", name = $"Thing {i} ünïcødé" })).ToList();
        await scope.ServiceProvider.GetRequiredService<EmporiumDbContext>().SaveChangesAsync();
        return events.ConvertAll(e => e.EventId);
    }

    /// <summary>
    /// Subscribes <paramref name="receiver"/> alone, writes an event, and answers how long its first failed attempt was
    /// told to wait for the next (once the delivery is PENDING again: while the attempt runs it is SENDING, its next
    /// attempt the claim's lease).
    /// </summary>
    public static async Task<TimeSpan> FirstRetryWaitAsync(this EmporiumApp app, WebhookReceiver receiver)
    {
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = (await app.NewUserAsync(Emporium.Platform.Security.Roles.Staff)).Http;
        await app.WriteEventsAsync();
        await staff.WaitForDeliveriesAsync(
            subscription.Id, d => d.Count == 1 && d[0].GetProperty("attempt_count").GetInt32() == 1 && d[0].Status() == "PENDING");
        var (next, updated) = await app.WithDbAsync(db => db.Set<WebhookDelivery>().Where(d => d.SubscriptionId == subscription.Id)
            .Select(d => new Tuple<DateTime, DateTime>(d.NextAttemptAt, d.UpdatedAt)).SingleAsync());
        return next - updated;
    }

    public static Task<WebhookSubscription> SubscriptionRowAsync(this EmporiumApp app, long id) =>
        app.WithDbAsync(db => db.Set<WebhookSubscription>().AsNoTracking().SingleAsync(s => s.Id == id));

    public static async Task<JsonElement> DeliveriesAsync(this HttpClient client, long subscriptionId, string query = "")
    {
        var page = await (await client.GetAsync($"/api/webhooks/{subscriptionId}/deliveries?page_size=100{query}")).ShouldBe(System.Net.HttpStatusCode.OK);
        return page.GetProperty("results");
    }

    /// <summary>Polls the delivery log until <paramref name="condition"/> holds for the deliveries (newest first).</summary>
    public static async Task<List<JsonElement>> WaitForDeliveriesAsync(
        this HttpClient client, long subscriptionId, Func<List<JsonElement>, bool> condition, double seconds = 20)
    {
        var deadline = TestTime.Deadline(seconds);
        while (true)
        {
            var deliveries = (await client.DeliveriesAsync(subscriptionId)).EnumerateArray().ToList();
            if (condition(deliveries))
            {
                return deliveries;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "the deliveries did not reach the expected state: {0}",
                string.Join("\n", deliveries.Select(d => d.GetRawText())));
            await Task.Delay(50);
        }
    }

    public static string Status(this JsonElement delivery) => delivery.Str("status");

    public static string? Header(this ReceivedWebhook request, string name) => request.Headers.GetValueOrDefault(name);
}
