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
