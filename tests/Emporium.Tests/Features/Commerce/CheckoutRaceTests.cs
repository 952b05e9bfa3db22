using System.Net;
using Emporium.Data;
using Emporium.Features.Catalog;
using Emporium.Features.Commerce.Orders;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Commerce;

/// <summary>
/// PostgreSQL runs checkouts and catalog edits side by side: what changes while a checkout waits for a stock row's lock
/// must still count. Another transaction holds the lock here, so the wait is certain rather than a matter of timing.
/// </summary>
public sealed class CheckoutRaceTestsOnPostgres(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task A_product_withdrawn_while_the_checkout_waits_for_its_stock_row_is_not_sold()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var item = await staff.ProductForSaleAsync(5m, stock: 4);
        await customer.AddToCartAsync(item.VariantId, 2);

        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        await using (var held = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM variants WHERE id = {item.VariantId} FOR UPDATE");
            var checkout = customer.CheckoutAsync();
            await app.WaitForALockWaitAsync();

            await app.WithDbAsync(other => other.Set<Product>().Where(p => p.Id == item.ProductId)
                .ExecuteUpdateAsync(set => set.SetProperty(p => p.IsActive, false)));
            await held.RollbackAsync();

            var problem = await (await checkout).ShouldBeProblem(HttpStatusCode.Conflict);
            problem.Str("detail").Should().Contain($"{item.Sku}: 2 requested, 0 available");
        }

        (await app.OnHandAsync(item.VariantId)).Should().Be(4, "nothing was sold");
        (await app.WithDbAsync(other => other.Set<Order>().CountAsync(o => o.Lines.Any(l => l.VariantId == item.VariantId)))).Should().Be(0);
    }

    [Fact]
    public async Task A_cancellation_the_database_aborts_in_a_deadlock_runs_again_and_restocks_once()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var first = await staff.ProductForSaleAsync(5m, stock: 4);
        var second = await staff.ProductForSaleAsync(6m, stock: 4);
        await customer.AddToCartAsync(first.VariantId, 1);
        await customer.AddToCartAsync(second.VariantId, 2);
        var order = (await (await customer.CheckoutAsync()).ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetInt64();

        // Another writer (an import setting stock in file order) holds the second variant, then wants the first, which the
        // cancellation (restocking in id order) holds by then: a deadlock. This side checks for it late, so PostgreSQL
        // aborts the cancellation.
        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        await using (var held = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlRawAsync("SET LOCAL deadlock_timeout = '20s'");
            await db.Database.ExecuteSqlAsync($"UPDATE variants SET on_hand = on_hand WHERE id = {second.VariantId}");
            var cancel = customer.PostAsync($"/api/orders/{order}/cancel", null);
            await app.WaitForALockWaitAsync();
            await db.Database.ExecuteSqlAsync($"UPDATE variants SET on_hand = on_hand WHERE id = {first.VariantId}");
            await held.CommitAsync();

            var cancelled = await (await cancel).ShouldBe(HttpStatusCode.OK);
            cancelled.Str("status").Should().Be("cancelled");
        }

        (await app.OnHandAsync(first.VariantId)).Should().Be(4, "the unit came back once");
        (await app.OnHandAsync(second.VariantId)).Should().Be(4);
    }
}
