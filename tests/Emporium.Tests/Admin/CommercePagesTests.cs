using System.Net;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

/// <summary>Variants and stock on the product page, and the orders pages (issue 14).</summary>
public sealed class CommercePagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task A_variant_is_added_on_the_product_page_and_its_stock_adjusted_with_history()
    {
        var tag = Tag();
        var size = await CreateAsync("/api/attributes", new { name = $"Size {tag}", values = new[] { new { name = "M", slug = "m" } } });
        var product = await CreateProductAsync($"Tee {tag}", price: 20m);
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{product.GetProperty("id").GetInt64()}"));
        await Expect(Heading($"Edit Tee {tag}")).ToBeVisibleAsync();

        await Field("Variant SKU").FillAsync($"TEE-{tag}-M");
        await Field("Attribute values").FillAsync($"{size.Str("slug")}=m");
        await Field("Own price").FillAsync("22.50");
        await Field("Starting stock").FillAsync("4");
        await Button("Add variant").ClickAsync();

        var row = Page.Locator("tr[data-variant]", new PageLocatorOptions { HasText = $"TEE-{tag}-M" });
        await Expect(row).ToContainTextAsync($"{size.Str("slug")}: m");
        await Expect(row).ToContainTextAsync("22.50");
        await Expect(Flash).ToHaveTextAsync($"Added the variant TEE-{tag}-M.");

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = $"Stock of TEE-{tag}-M" }).ClickAsync();
        await Expect(Page.Locator(".stock-level")).ToHaveTextAsync("4 on hand");
        await Field("Units to add or remove").FillAsync("-6");
        await Field("Reason").FillAsync("breakage");
        await Button("Adjust stock").ClickAsync();
        await Expect(Page.Locator("[data-error-for=delta]")).ToContainTextAsync("at most 4 units can be removed");
        await Expect(Page.Locator(".stock-level")).ToHaveTextAsync("4 on hand");

        await Field("Units to add or remove").FillAsync("-1");
        await Button("Adjust stock").ClickAsync();
        await Expect(Page.Locator(".stock-level")).ToHaveTextAsync("3 on hand");
        var history = Page.Locator(".stock-panel table tbody tr");
        await Expect(history).ToHaveCountAsync(2);
        await Expect(history.First).ToContainTextAsync("-1");
        await Expect(history.First).ToContainTextAsync("breakage");
        await Expect(history.Last).ToContainTextAsync("initial stock");
    }

    [Fact]
    public async Task Staff_find_an_order_see_its_lines_and_movements_and_move_it_along()
    {
        var tag = Tag();
        var api = await AdminApiAsync();
        var product = await CreateProductAsync($"Lamp {tag}", price: 15m);
        var variantId = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        await (await api.PutJson($"/api/variants/{variantId}/stock", new { on_hand = 10, reason = "delivery" })).ShouldBe(HttpStatusCode.OK);
        var customer = await App.NewUserAsync(Roles.Customer);
        await (await customer.Http.PostJson("/api/cart/items", new { variant_id = variantId, quantity = 3 })).ShouldBe(HttpStatusCode.OK);
        var order = await (await customer.Http.PostJson("/api/orders", new { })).ShouldBe(HttpStatusCode.Created);
        var id = order.GetProperty("id").GetInt64();
        await SignInAsync();

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Orders", Exact = true }).ClickAsync();
        await Field("Customer id").FillAsync(customer.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Field("Status").SelectOptionAsync("pending");
        await Button("Apply").ClickAsync();
        var rows = Page.Locator("table.data tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows).ToContainTextAsync(customer.Email);
        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = $"#{id}", Exact = true }).ClickAsync();

        await Expect(Heading($"Order #{id}")).ToBeVisibleAsync();
        await Expect(Page.Locator(".order-total")).ToContainTextAsync("45.00");
        await Expect(Page.Locator("table.data").First).ToContainTextAsync($"Lamp {tag}");
        await Expect(Page.Locator("table.movements tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.Locator("table.movements tbody tr")).ToContainTextAsync("-3");

        await Button("Mark paid").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Order #{id} is paid.");
        await Expect(Page.Locator(".page-heading .badge")).ToHaveTextAsync("paid");
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await Button("Cancel order").ClickAsync();
        await Expect(Page.Locator(".page-heading .badge")).ToHaveTextAsync("cancelled");
        await Expect(Page.Locator("table.movements tbody tr")).ToHaveCountAsync(2);
        await Expect(Page.Locator("table.movements tbody tr").Last).ToContainTextAsync("+3");
        await Expect(Button("Mark fulfilled")).ToHaveCountAsync(0);

        var level = await (await api.GetAsync($"/api/variants/{variantId}")).ShouldBe(HttpStatusCode.OK);
        level.GetProperty("on_hand").GetInt32().Should().Be(10, "the cancelled order's units went back");
    }

    [Fact]
    public async Task An_order_action_refused_because_someone_else_moved_the_order_says_why_and_can_be_tried_again()
    {
        var tag = Tag();
        var api = await AdminApiAsync();
        var product = await CreateProductAsync($"Kettle {tag}", price: 30m);
        var variantId = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        await (await api.PutJson($"/api/variants/{variantId}/stock", new { on_hand = 5, reason = "delivery" })).ShouldBe(HttpStatusCode.OK);
        var customer = await App.NewUserAsync(Roles.Customer);
        await (await customer.Http.PostJson("/api/cart/items", new { variant_id = variantId, quantity = 1 })).ShouldBe(HttpStatusCode.OK);
        var id = (await (await customer.Http.PostJson("/api/orders", new { })).ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/orders/{id}"));
        await Expect(Heading($"Order #{id}")).ToBeVisibleAsync();

        // The customer cancels while staff have the page open.
        await (await customer.Http.PostAsync($"/api/orders/{id}/cancel", null)).ShouldBe(HttpStatusCode.OK);
        await Button("Mark paid").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"Order #{id} was not changed.");
        await Expect(Button("Mark paid")).ToBeEnabledAsync();
    }
}
