using Emporium.Features.Webhooks;
using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>The API-only host writes events; real worker processes deliver them, one of them killed with SIGKILL mid-send.</summary>
public abstract class WebhookWorkerTests(EmporiumApp app, string database)
{
    public sealed class ApiOnlyPostgresApp : WebhooksPostgresApp
    {
        public ApiOnlyPostgresApp() => With("Emporium:Role", "Api");
    }

    public sealed class ApiOnlySqliteApp : WebhooksSqliteApp
    {
        public ApiOnlySqliteApp() => With("Emporium:Role", "Api");
    }

    private static readonly string[] WorkerSettings =
        [.. WebhookSettings.Fast.Select(pair => $"--{pair.Key}={pair.Value}"), "--Webhooks:MaxConcurrencyPerSubscription=16"];

    [Fact]
    public async Task A_worker_killed_mid_delivery_loses_nothing_and_no_attempt_id_is_sent_twice()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = async (_, context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            context.Response.StatusCode = 200;
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var eventIds = await app.WriteEventsAsync(40);

        using (var first = WorkerProcess.Start(app.Provider, database, app.DataDirectory, WorkerSettings))
        {
            await receiver.WaitForAsync(r => r.Count >= 8, TestTime.Of(30));
            first.Kill(); // the receiver is still answering these: their outcomes are never recorded
        }

        var orphaned = await app.WithDbAsync(db => db.Set<WebhookDelivery>()
            .CountAsync(d => d.SubscriptionId == subscription.Id && d.Status == WebhookDeliveryStatus.SENDING));
        orphaned.Should().BePositive("the killed worker held deliveries in flight");

        using var second = WorkerProcess.Start(app.Provider, database, app.DataDirectory, WorkerSettings);
        var deadline = TestTime.Deadline(60);
        while (await app.WithDbAsync(db => db.Set<WebhookDelivery>()
            .CountAsync(d => d.SubscriptionId == subscription.Id && d.Status != WebhookDeliveryStatus.SUCCEEDED)) > 0)
        {
            second.HasExited.Should().BeFalse("the second worker should keep running: {0}", second.Output);
            DateTime.UtcNow.Should().BeBefore(deadline, "every delivery should succeed; worker output: {0}", second.Output);
            await Task.Delay(100);
        }

        var received = receiver.Received;
        received.Select(r => r.Id).Distinct().Should().BeEquivalentTo(eventIds, "every committed event reached the receiver");
        var attemptIds = received.Select(r => r.Header(WebhookSender.AttemptIdHeader)).ToList();
        attemptIds.Should().OnlyHaveUniqueItems("no attempt id is ever sent twice");
        var logged = await app.WithDbAsync(db => db.Set<WebhookAttempt>()
            .Where(a => db.Set<WebhookDelivery>().Any(d => d.Id == a.DeliveryId && d.SubscriptionId == subscription.Id))
            .ToListAsync());
        logged.Select(a => WebhookDelivery.AttemptIdOf(a.DeliveryId, a.Number)).Should().Contain(attemptIds!,
            "the attempts log accounts for every request the receiver saw");
        logged.Should().Contain(a => a.Failure == "interrupted", "the killed worker's attempts are marked as interrupted");
        received.Should().HaveCountGreaterThan(eventIds.Count, "the interrupted attempts were sent again");
    }
}

public sealed class WebhookWorkerTestsOnSqlite(WebhookWorkerTests.ApiOnlySqliteApp app)
    : WebhookWorkerTests(app, app.Database), IClassFixture<WebhookWorkerTests.ApiOnlySqliteApp>;

public sealed class WebhookWorkerTestsOnPostgres(WebhookWorkerTests.ApiOnlyPostgresApp app)
    : WebhookWorkerTests(app, app.Database), IClassFixture<WebhookWorkerTests.ApiOnlyPostgresApp>;
