using System.Net;
using Emporium.Data;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Webhooks;

/// <summary>A worker changes a subscription (disabling it after a 410 Gone) while staff edit it: the row lock makes the overlap certain.</summary>
public sealed class WebhookWriteRaceTests(WebhookPostgresApp app) : IClassFixture<WebhookPostgresApp>
{
    [Fact]
    public async Task An_edit_without_If_Match_overtaken_by_the_workers_disable_is_made_again_not_refused_with_412()
    {
        var staff = await app.StaffAsync();
        var id = (await staff.SubscribeAsync("http://127.0.0.1:9/hook")).GetProperty("id").GetInt64();

        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        await using (var held = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM webhook_subscriptions WHERE id = {id} FOR UPDATE");
            var edit = staff.PatchJson($"/api/webhooks/{id}", new { description = "Orders to the ERP" });
            await app.WaitForALockWaitAsync();
            // What the worker writes on a 410 Gone: switched off, why, and a new version.
            await db.Database.ExecuteSqlAsync(
                $"UPDATE webhook_subscriptions SET is_active = false, disabled_reason = 'receiver answered 410 Gone', version = version + 1 WHERE id = {id}");
            await held.CommitAsync();

            var edited = await (await edit).ShouldBe(HttpStatusCode.OK);
            edited.Str("description").Should().Be("Orders to the ERP");
            edited.GetProperty("is_active").GetBoolean().Should().BeFalse("the edit was made again on the disabled subscription, not over it");
        }
    }
}

/// <summary>
/// An outcome written while another transaction holds the subscription and wants the delivery (a subscription's delete
/// cascading to its deliveries): PostgreSQL aborts one side of the deadlock, here the outcome's, which must be written again.
/// </summary>
public sealed class WebhookOutcomeRaceTests(WebhooksPostgresApp app) : IClassFixture<WebhooksPostgresApp>
{
    [Fact]
    public async Task An_outcome_the_database_aborts_in_a_deadlock_is_recorded_not_lost_and_sent_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        receiver.Respond = async (_, context) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                arrived.SetResult();
                await held.Task;
                context.Response.StatusCode = 500;
            }
            else
            {
                context.Response.StatusCode = 204;
            }
        };
        var subscription = await app.SubscribeAsync(receiver.Url());
        var staff = await app.StaffAsync();
        await app.WriteEventsAsync();
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));

        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            // This side checks for the deadlock late, so PostgreSQL aborts the outcome's transaction.
            await db.Database.ExecuteSqlRawAsync("SET LOCAL deadlock_timeout = '20s'");
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM webhook_subscriptions WHERE id = {subscription.Id} FOR UPDATE");
            held.SetResult();
            await app.WaitForALockWaitAsync();
            await db.Database.ExecuteSqlAsync($"UPDATE webhook_deliveries SET attempts = attempts WHERE subscription_id = {subscription.Id}");
            await transaction.CommitAsync();
        }

        var delivery = (await staff.WaitForDeliveriesAsync(subscription.Id, d => d.Count == 1 && d[0].Status() == "SUCCEEDED", seconds: 30)).Single();
        var first = delivery.GetProperty("attempts").EnumerateArray().First(a => a.GetProperty("number").GetInt32() == 1);
        first.GetProperty("status_code").GetInt32().Should().Be(500, "the receiver's answer was recorded, not lost to the deadlock (then 'interrupted' at the lease's end)");
        receiver.Received.Should().HaveCount(2);
    }
}
