using System.Net;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;

namespace Emporium.Tests.Features.Commerce;

/// <summary>The cart: priced now, capped, and honest about what can no longer be bought (issue 14).</summary>
public abstract class CartTests(EmporiumApp app)
{
    private static string[] Errors(JsonElement problem, string field) =>
        problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public async Task Lines_are_added_by_sku_or_id_merged_and_priced_now()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var mug = await staff.ProductForSaleAsync(7.25m, stock: 3);
        var tee = await staff.ProductForSaleAsync(19.99m, stock: 0);

        await (await customer.PostJson("/api/cart/items", new { sku = mug.Sku.ToLowerInvariant(), quantity = 2 })).ShouldBe(HttpStatusCode.OK);
        await customer.AddToCartAsync(mug.VariantId, 2);
        var cart = await customer.AddToCartAsync(tee.VariantId, 1);

        var items = cart.GetProperty("items").EnumerateArray().ToArray();
        items.Select(i => (i.Str("sku"), i.GetProperty("quantity").GetInt32())).Should().Equal((mug.Sku, 4), (tee.Sku, 1));
        items[0].GetProperty("unit_price").GetDecimal().Should().Be(7.25m);
        items[0].GetProperty("line_total").GetDecimal().Should().Be(29m);
        items[0].GetProperty("available_quantity").GetInt32().Should().Be(3);
        items[0].GetProperty("available").GetBoolean().Should().BeFalse("4 are wanted and 3 are on hand");
        items[1].GetProperty("available").GetBoolean().Should().BeFalse("none is on hand");
        cart.GetProperty("totals").EnumerateArray().Select(t => (t.Str("currency"), t.GetProperty("amount").GetDecimal()))
            .Should().Equal(("USD", 48.99m));
        cart.GetProperty("item_count").GetInt32().Should().Be(5);

        // A price change shows at once: the cart keeps quantities, not prices.
        await (await staff.PatchJson($"/api/products/{mug.ProductId}", new { price = 8m })).ShouldBe(HttpStatusCode.OK);
        var read = await (await customer.GetAsync("/api/cart")).ShouldBe(HttpStatusCode.OK);
        read.GetProperty("items")[0].GetProperty("line_total").GetDecimal().Should().Be(32m);
    }

    [Fact]
    public async Task Unknown_or_unsold_variants_and_quantities_beyond_the_cap_are_refused_with_the_field_named()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var hidden = await staff.ProductForSaleAsync(1m, stock: 5, active: false);
        var sold = await staff.ProductForSaleAsync(1m, stock: 5);

        Errors(await (await customer.PostJson("/api/cart/items", new { sku = "NO-SUCH-SKU", quantity = 1 })).ShouldBeProblem((HttpStatusCode)422), "sku")
            .Should().ContainSingle().Which.Should().Contain("NO-SUCH-SKU");
        Errors(await (await customer.PostJson("/api/cart/items", new { variant_id = 999_999_999, quantity = 1 })).ShouldBeProblem((HttpStatusCode)422), "variant_id")
            .Should().ContainSingle();
        Errors(await (await customer.PostJson("/api/cart/items", new { variant_id = hidden.VariantId, quantity = 1 })).ShouldBeProblem((HttpStatusCode)422), "variant_id")
            .Should().ContainSingle().Which.Should().Be($"No variant {hidden.VariantId} is for sale.", "an unsold variant reads like a missing one");
        Errors(await (await customer.PostJson("/api/cart/items", new { sku = hidden.Sku, quantity = 1 })).ShouldBeProblem((HttpStatusCode)422), "sku")
            .Should().ContainSingle().Which.Should().Be($"No variant with SKU '{hidden.Sku}' is for sale.", "by SKU too, a hidden product reads like a missing one");
        Errors(await (await customer.PostJson("/api/cart/items", new { variant_id = sold.VariantId, quantity = 0 })).ShouldBeProblem(HttpStatusCode.BadRequest), "quantity")
            .Should().ContainSingle();
        await (await customer.PostJson("/api/cart/items", new { variant_id = sold.VariantId, sku = sold.Sku, quantity = 1 })).ShouldBeProblem(HttpStatusCode.BadRequest);

        await customer.AddToCartAsync(sold.VariantId, 60);
        Errors(await (await customer.PostJson("/api/cart/items", new { variant_id = sold.VariantId, quantity = 41 })).ShouldBeProblem((HttpStatusCode)422), "quantity")
            .Should().ContainSingle().Which.Should().Contain("at most 100");
        var cart = await (await customer.GetAsync("/api/cart")).ShouldBe(HttpStatusCode.OK);
        cart.GetProperty("items")[0].GetProperty("quantity").GetInt32().Should().Be(60, "a refused add changes nothing");
    }

    [Fact]
    public async Task A_line_is_changed_and_removed_by_its_owner_only()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await app.NewUserAsync(Roles.Customer)).Http;
        var other = (await app.NewUserAsync(Roles.Customer)).Http;
        var item = await staff.ProductForSaleAsync(2m, stock: 10);
        var lineId = (await customer.AddToCartAsync(item.VariantId, 1)).GetProperty("items")[0].GetProperty("id").GetInt64();

        await (await other.PatchJson($"/api/cart/items/{lineId}", new { quantity = 5 })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await other.DeleteAsync($"/api/cart/items/{lineId}")).ShouldBeProblem(HttpStatusCode.NotFound);
        var changed = await (await customer.PatchJson($"/api/cart/items/{lineId}", new { quantity = 5 })).ShouldBe(HttpStatusCode.OK);
        changed.GetProperty("items")[0].GetProperty("quantity").GetInt32().Should().Be(5);
        await (await customer.PatchJson($"/api/cart/items/{lineId}", new { quantity = 101 })).ShouldBeProblem(HttpStatusCode.BadRequest);

        (await customer.DeleteAsync($"/api/cart/items/{lineId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var empty = await (await customer.GetAsync("/api/cart")).ShouldBe(HttpStatusCode.OK);
        empty.GetProperty("items").GetArrayLength().Should().Be(0);
        empty.GetProperty("totals").GetArrayLength().Should().Be(0);
        await (await app.Anonymous().GetAsync("/api/cart")).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }
}

public sealed class CartTestsOnSqlite(SqliteApp app) : CartTests(app), IClassFixture<SqliteApp>;

public sealed class CartTestsOnPostgres(PostgresApp app) : CartTests(app), IClassFixture<PostgresApp>;

/// <summary>A cart's line cap holds when the adds that would pass it arrive together.</summary>
public abstract class CartLineCapTests
{
    private readonly EmporiumApp _app;

    protected CartLineCapTests(EmporiumApp app) => _app = app.With("Commerce:MaxCartLines", "2");

    [Fact]
    public async Task Two_adds_at_once_into_a_cart_one_line_from_full_add_one_line_and_refuse_the_other()
    {
        var staff = (await _app.NewUserAsync(Roles.Staff)).Http;
        var first = await staff.ProductForSaleAsync(1m, stock: 5);
        var second = await staff.ProductForSaleAsync(1m, stock: 5);
        var third = await staff.ProductForSaleAsync(1m, stock: 5);
        for (var round = 0; round < 10; round++)
        {
            var customer = (await _app.NewUserAsync(Roles.Customer)).Http;
            await customer.AddToCartAsync(first.VariantId, 1);
            using var start = new SemaphoreSlim(0);
            var adds = new[] { second, third }.Select(item => Task.Run(async () =>
            {
                await start.WaitAsync();
                return await customer.PostJson("/api/cart/items", new { variant_id = item.VariantId, quantity = 1 });
            })).ToArray();
            start.Release(2);
            var statuses = (await Task.WhenAll(adds)).Select(r => r.StatusCode);

            statuses.Should().BeEquivalentTo([HttpStatusCode.OK, (HttpStatusCode)422], $"round {round}");
            var cart = await (await customer.GetAsync("/api/cart")).ShouldBe(HttpStatusCode.OK);
            cart.GetProperty("items").GetArrayLength().Should().Be(2, $"the cart holds at most 2 lines (round {round})");
        }
    }

    [Fact]
    public async Task A_full_cart_names_the_field_the_client_sent()
    {
        var staff = (await _app.NewUserAsync(Roles.Staff)).Http;
        var customer = (await _app.NewUserAsync(Roles.Customer)).Http;
        var items = new[] { await staff.ProductForSaleAsync(1m, stock: 5), await staff.ProductForSaleAsync(1m, stock: 5), await staff.ProductForSaleAsync(1m, stock: 5) };
        await customer.AddToCartAsync(items[0].VariantId, 1);
        await customer.AddToCartAsync(items[1].VariantId, 1);

        var bySku = await (await customer.PostJson("/api/cart/items", new { sku = items[2].Sku, quantity = 1 })).ShouldBeProblem((HttpStatusCode)422);

        bySku.GetProperty("errors").TryGetProperty("sku", out _).Should().BeTrue("the client added by SKU: {0}", bySku.GetRawText());
    }
}

public sealed class CartLineCapTestsOnSqlite(SqliteApp app) : CartLineCapTests(app), IClassFixture<SqliteApp>;

public sealed class CartLineCapTestsOnPostgres(PostgresApp app) : CartLineCapTests(app), IClassFixture<PostgresApp>;
