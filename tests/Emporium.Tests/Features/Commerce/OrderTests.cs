using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Emporium.Features.Catalog.Variants;
using Emporium.Features.Commerce.Orders;
using Microsoft.Extensions.DependencyInjection;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Commerce;

/// <summary>Orders after checkout: who sees them, which transitions are allowed, and cancellation putting units back (issue 14).</summary>
public abstract class OrderTests(EmporiumApp app)
{
    private async Task<(HttpClient Staff, UserClient Customer, CommerceTestKit.ForSale Item, long OrderId)> OrderAsync(int stock = 10, int quantity = 3)
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = await app.NewUserAsync(Roles.Customer);
        var item = await staff.ProductForSaleAsync(5m, stock);
        await customer.Http.AddToCartAsync(item.VariantId, quantity);
        var order = await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
        return (staff, customer, item, order.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Staff_move_an_order_along_and_only_the_allowed_transitions_happen()
    {
        var (staff, customer, _, id) = await OrderAsync();

        await (await customer.Http.PostAsync($"/api/orders/{id}/pay", null)).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await staff.PostAsync($"/api/orders/{id}/fulfill", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        var paid = await (await staff.PostAsync($"/api/orders/{id}/pay", null)).ShouldBe(HttpStatusCode.OK);
        paid.Str("status").Should().Be("paid");
        paid.GetProperty("paid_at").ValueKind.Should().Be(JsonValueKind.String);
        await (await staff.PostAsync($"/api/orders/{id}/pay", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await customer.Http.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        var fulfilled = await (await staff.PostAsync($"/api/orders/{id}/fulfill", null)).ShouldBe(HttpStatusCode.OK);
        fulfilled.Str("status").Should().Be("fulfilled");
        await (await staff.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Of_two_cancels_at_once_the_refused_one_names_the_state_that_refused_it()
    {
        // The loser read "pending" before the winner moved the order, and answered "the order is pending; only a pending
        // order can become cancelled": a contradiction the client cannot act on.
        for (var round = 0; round < 8; round++)
        {
            var (_, customer, _, id) = await OrderAsync();
            using var start = new SemaphoreSlim(0);
            var cancels = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                await start.WaitAsync();
                return await customer.Http.PostAsync($"/api/orders/{id}/cancel", null);
            })).ToArray();
            start.Release(2);
            var answers = await Task.WhenAll(cancels);

            answers.Select(a => a.StatusCode).Should().BeEquivalentTo([HttpStatusCode.OK, HttpStatusCode.Conflict], $"round {round}");
            var refused = await answers.Single(a => a.StatusCode == HttpStatusCode.Conflict).ShouldBeProblem(HttpStatusCode.Conflict);
            refused.Str("detail").Should().StartWith("The order is cancelled", $"round {round}");
        }
    }

    [Fact]
    public async Task Cancelling_puts_the_units_back_and_records_them()
    {
        var (staff, customer, item, id) = await OrderAsync(stock: 10, quantity: 3);
        (await app.OnHandAsync(item.VariantId)).Should().Be(7);

        var cancelled = await (await customer.Http.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBe(HttpStatusCode.OK);

        cancelled.Str("status").Should().Be("cancelled");
        (await app.OnHandAsync(item.VariantId)).Should().Be(10);
        var movements = await app.WithDbAsync(db => db.Set<StockMovement>().Where(m => m.OrderId == id).OrderBy(m => m.Id).Select(m => m.Delta).ToListAsync());
        movements.Should().Equal(-3, 3);
        await (await customer.Http.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.Conflict);
        (await app.OnHandAsync(item.VariantId)).Should().Be(10);

        // Staff may cancel a paid order too.
        var (_, _, second, paidId) = await OrderAsync(stock: 4, quantity: 4);
        await (await staff.PostAsync($"/api/orders/{paidId}/pay", null)).ShouldBe(HttpStatusCode.OK);
        await (await staff.PostAsync($"/api/orders/{paidId}/cancel", null)).ShouldBe(HttpStatusCode.OK);
        (await app.OnHandAsync(second.VariantId)).Should().Be(4);
    }

    [Fact]
    public async Task Cancelling_puts_the_units_back_even_when_a_count_has_since_raised_the_level_to_the_cap()
    {
        var (staff, customer, item, id) = await OrderAsync(stock: 10, quantity: 3);
        await (await staff.PutJson($"/api/variants/{item.VariantId}/stock", new { on_hand = VariantLimits.MaxOnHand, reason = "unlimited" }))
            .ShouldBe(HttpStatusCode.OK);

        await (await customer.Http.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBe(HttpStatusCode.OK);

        (await app.OnHandAsync(item.VariantId)).Should().Be(VariantLimits.MaxOnHand + 3);
        var movements = await app.WithDbAsync(db => db.Set<StockMovement>().Where(m => m.OrderId == id).OrderBy(m => m.Id).Select(m => m.Delta).ToListAsync());
        movements.Should().Equal(-3, 3);

        // Past the cap, units still go out: a sale of one and a removal of one (only additions are capped).
        await customer.Http.AddToCartAsync(item.VariantId, 1);
        await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
        await (await staff.PostJson($"/api/variants/{item.VariantId}/stock/adjustments", new { delta = -1, reason = "breakage" })).ShouldBe(HttpStatusCode.OK);
        (await app.OnHandAsync(item.VariantId)).Should().Be(VariantLimits.MaxOnHand + 1);
    }

    [Fact]
    public async Task Customers_see_their_own_orders_and_staff_see_all_with_filters()
    {
        var (staff, customer, _, id) = await OrderAsync();
        var stranger = (await app.NewUserAsync(Roles.Customer)).Http;

        await (await stranger.GetAsync($"/api/orders/{id}")).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await stranger.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBeProblem(HttpStatusCode.NotFound);
        (await (await stranger.GetAsync("/api/orders")).ShouldBe(HttpStatusCode.OK)).GetProperty("count").GetInt64().Should().Be(0);
        var own = await (await customer.Http.GetAsync("/api/orders")).ShouldBe(HttpStatusCode.OK);
        own.GetProperty("results").EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).Should().Equal(id);

        var byCustomer = await (await staff.GetAsync($"/api/orders?user_id={customer.UserId}&status=pending")).ShouldBe(HttpStatusCode.OK);
        byCustomer.GetProperty("results").EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).Should().Equal(id);
        var paidOnly = await (await staff.GetAsync($"/api/orders?user_id={customer.UserId}&status=paid")).ShouldBe(HttpStatusCode.OK);
        paidOnly.GetProperty("count").GetInt64().Should().Be(0);
        var later = await (await staff.GetAsync($"/api/orders?user_id={customer.UserId}&created_from={DateTime.UtcNow.AddMinutes(5):O}")).ShouldBe(HttpStatusCode.OK);
        later.GetProperty("count").GetInt64().Should().Be(0);
        var bad = await (await staff.GetAsync("/api/orders?status=lost&created_to=yesterday")).ShouldBeProblem(HttpStatusCode.BadRequest);
        bad.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo("status", "created_to");
        var ambiguous = await (await staff.GetAsync("/api/orders?status=1&created_from=01/02/2026")).ShouldBeProblem(HttpStatusCode.BadRequest);
        ambiguous.GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().BeEquivalentTo(["status", "created_from"],
            "a status is named, not numbered, and a culture's date is ambiguous (2 January or 1 February)");
        var byDay = await (await staff.GetAsync($"/api/orders?user_id={customer.UserId}&created_from={own.GetProperty("results")[0].Str("created_at")[..10]}")).ShouldBe(HttpStatusCode.OK);
        byDay.GetProperty("count").GetInt64().Should().Be(1, "a date alone is that day's start, UTC");
        var day = own.GetProperty("results")[0].Str("created_at")[..10];
        foreach (var spelling in new[] { $"{day} 00:00:00Z", $"{day}t00:00:00z", $"{day}T00:00:00.123456789Z", $"{day}T02:00:00+02:00" })
        {
            var page = await (await staff.GetAsync($"/api/orders?user_id={customer.UserId}&created_from={Uri.EscapeDataString(spelling)}")).ShouldBe(HttpStatusCode.OK);
            page.GetProperty("count").GetInt64().Should().Be(1, $"{spelling} is an RFC 3339 spelling of that day's start");
        }
    }

    [Fact]
    public async Task An_order_left_unpaid_past_Commerce_UnpaidOrderLifetime_is_cancelled_and_its_units_go_back()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var item = await staff.ProductForSaleAsync(4m, stock: 5);
        var forgotten = await customer.PlaceOrderAsync(item.VariantId, 2);
        var paid = await customer.PlaceOrderAsync(item.VariantId, 1);
        var recent = await customer.PlaceOrderAsync(item.VariantId, 1);
        (await staff.PostAsync($"/api/orders/{paid}/pay", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        var placedLongAgo = DateTime.UtcNow.AddDays(-4);
        await app.WithDbAsync(db => db.Set<Order>().Where(o => o.Id == forgotten || o.Id == paid)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.CreatedAt, placedLongAgo)));
        (await app.OnHandAsync(item.VariantId)).Should().Be(1);

        var cancelled = await app.Services.GetRequiredService<UnpaidOrderExpiry>().SweepAsync(CancellationToken.None);

        cancelled.Should().Be(1);
        var statuses = await app.WithDbAsync(db => db.Set<Order>().Where(o => o.Id == forgotten || o.Id == paid || o.Id == recent)
            .OrderBy(o => o.Id).Select(o => o.Status).ToListAsync());
        statuses.Should().Equal(OrderStatus.Cancelled, OrderStatus.Paid, OrderStatus.Pending);
        (await app.OnHandAsync(item.VariantId)).Should().Be(3, "the forgotten order's two units are for sale again");
        var movements = await (await staff.GetAsync($"/api/orders/{forgotten}/movements")).ShouldBe(HttpStatusCode.OK);
        movements.ToString().Should().Contain("Commerce:UnpaidOrderLifetime");
        var events = await (await staff.GetAsync("/api/events?type=order.cancelled&page_size=100")).ShouldBe(HttpStatusCode.OK);
        events.GetProperty("results").EnumerateArray().Should().Contain(e => e.GetProperty("data").GetProperty("id").GetInt64() == forgotten);
        (await app.Services.GetRequiredService<UnpaidOrderExpiry>().SweepAsync(CancellationToken.None)).Should().Be(0, "nothing is cancelled twice");
    }

    [Fact]
    public async Task A_customer_with_Commerce_MaxUnpaidOrders_unpaid_orders_places_no_more_until_one_is_paid_or_cancelled()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var item = await staff.ProductForSaleAsync(1m, stock: 50);
        var orders = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            orders.Add(await customer.PlaceOrderAsync(item.VariantId, 1));
        }

        await customer.AddToCartAsync(item.VariantId, 1);
        var refused = await (await customer.CheckoutAsync()).ShouldBeProblem(HttpStatusCode.Conflict);
        refused.Str("detail").Should().Contain("10 unpaid orders");
        (await app.OnHandAsync(item.VariantId)).Should().Be(40, "nothing was taken for the refused checkout");

        (await customer.PostAsync($"/api/orders/{orders[0]}/cancel", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await (await customer.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_shelf_count_leaves_on_hand_at_what_is_counted_less_the_units_sold_and_not_yet_shipped()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var item = await staff.ProductForSaleAsync(2m, stock: 10);
        await customer.PlaceOrderAsync(item.VariantId, 3);   // stays pending
        var paid = await customer.PlaceOrderAsync(item.VariantId, 2);
        var shipped = await customer.PlaceOrderAsync(item.VariantId, 1);
        var cancelled = await customer.PlaceOrderAsync(item.VariantId, 1);
        (await staff.PostAsync($"/api/orders/{paid}/pay", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await staff.PostAsync($"/api/orders/{shipped}/pay", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await staff.PostAsync($"/api/orders/{shipped}/fulfill", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await staff.PostAsync($"/api/orders/{cancelled}/cancel", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await app.OnHandAsync(item.VariantId)).Should().Be(4, "10 less the 3, 2 and 1 sold (the cancelled one came back)");

        // Nine on the shelf (one shipped), but one was lost: eight counted, of which five are sold and wait for shipping.
        var counted = await (await staff.PutJson($"/api/variants/{item.VariantId}/stock", new { counted = 8, reason = "stock count" })).ShouldBe(HttpStatusCode.OK);
        counted.GetProperty("on_hand").GetInt32().Should().Be(3, "8 counted less the 5 units of the pending and the paid order");
        counted.GetProperty("movement").GetProperty("delta").GetInt32().Should().Be(-1);

        var short_ = await (await staff.PutJson($"/api/variants/{item.VariantId}/stock", new { counted = 4, reason = "stock count" })).ShouldBeProblem(HttpStatusCode.Conflict);
        short_.Str("detail").Should().Contain("hold 5");
        (await staff.PutJson($"/api/variants/{item.VariantId}/stock", new { counted = 8, on_hand = 3, reason = "both" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await staff.PutJson($"/api/variants/{item.VariantId}/stock", new { reason = "neither" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await app.OnHandAsync(item.VariantId)).Should().Be(3);
    }
}

public sealed class OrderTestsOnSqlite(SqliteApp app) : OrderTests(app), IClassFixture<SqliteApp>;

public sealed class OrderTestsOnPostgres(PostgresApp app) : OrderTests(app), IClassFixture<PostgresApp>;
