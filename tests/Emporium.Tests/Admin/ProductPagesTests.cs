using System.Net;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed class ProductPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task Searching_narrows_the_table_to_the_matching_products()
    {
        var tag = Tag();
        await CreateProductAsync($"Kayak {tag}");
        await CreateProductAsync($"Paddle {tag}");
        await SignInAsync();

        await Field("Search").FillAsync($"kayak {tag}");
        await Button("Apply").ClickAsync();

        var rows = Page.Locator("table.data tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows).ToContainTextAsync($"Kayak {tag}");
        await Expect(Page.Locator(".summary")).ToHaveTextAsync("1 product");
        await Expect(Field("Search")).ToHaveValueAsync($"kayak {tag}");
    }

    [Fact]
    public async Task The_next_page_link_follows_the_envelope()
    {
        var tag = Tag();
        for (var i = 1; i <= 3; i++)
        {
            await CreateProductAsync($"Rope {i} {tag}");
        }

        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products?search={tag}&sort=name&page_size=2"));
        await Expect(Page.Locator(".pager-status")).ToHaveTextAsync("Page 1 of 2");
        await Expect(Page.Locator("table.data tbody tr")).ToHaveCountAsync(2);

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Next page" }).ClickAsync();

        await Expect(Page.Locator(".pager-status")).ToHaveTextAsync("Page 2 of 2");
        await Expect(Page.Locator("table.data tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.Locator("table.data tbody")).ToContainTextAsync($"Rope 3 {tag}");
        await Expect(Field("Search")).ToHaveValueAsync(tag);
        await Expect(Field("Sort by")).ToHaveValueAsync("name");
    }

    [Fact]
    public async Task A_product_created_through_the_form_is_listed_with_its_brand_and_categories()
    {
        var tag = Tag();
        var brand = await CreateAsync("/api/brands", new { name = $"Brand {tag}" });
        var category = await CreateAsync("/api/categories", new { name = $"Camping {tag}" });
        await SignInAsync();

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "New product" }).ClickAsync();
        await Expect(Heading("New product")).ToBeVisibleAsync();
        await Field("SKU").FillAsync($"TENT-{tag}");
        await Field("Name").FillAsync($"Tent {tag}");
        await Field("Price").FillAsync("149.95");
        await Field("Description").FillAsync("Sleeps two.");
        await Field("Brand").SelectOptionAsync(new SelectOptionValue { Label = $"Brand {tag}" });
        await Field("Categories").SelectOptionAsync(new SelectOptionValue { Value = category.GetProperty("id").ToString() });
        await Button("Create product").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Created “Tent {tag}”.");
        var row = Page.Locator("table.data tbody tr", new PageLocatorOptions { HasText = $"Tent {tag}" });
        await Expect(row).ToContainTextAsync($"TENT-{tag}");
        await Expect(row).ToContainTextAsync($"Brand {tag}");

        var api = await AdminApiAsync();
        var saved = await (await api.GetAsync($"/api/products?sku=TENT-{tag}")).ShouldBe(HttpStatusCode.OK);
        var product = saved.GetProperty("results")[0];
        product.GetProperty("price").GetDecimal().Should().Be(149.95m);
        product.GetProperty("brand").GetProperty("id").GetInt64().Should().Be(brand.GetProperty("id").GetInt64());
        product.GetProperty("categories")[0].GetProperty("id").GetInt64().Should().Be(category.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task A_negative_price_is_reported_next_to_the_price_field()
    {
        var tag = Tag();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/products/new"));

        await Field("SKU").FillAsync($"NEG-{tag}");
        await Field("Name").FillAsync($"Negative {tag}");
        await Field("Price").FillAsync("-5");
        await Button("Create product").ClickAsync();

        var priceField = Page.Locator("[data-field='price']");
        await Expect(priceField.Locator(".field-error")).ToHaveTextAsync("price must be 0 or more.");
        await Expect(Field("Price")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Field("Price")).ToBeFocusedAsync();
        await Expect(Page.Locator("[data-field='name'] .field-error")).ToBeEmptyAsync();
        await Expect(Heading("New product")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Saving_over_someone_elses_change_shows_the_conflict_and_offers_the_latest_version()
    {
        var tag = Tag();
        var product = await CreateProductAsync($"Compass {tag}");
        var id = product.GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{id}"));
        await Expect(Field("Name")).ToHaveValueAsync($"Compass {tag}");

        // Someone else saves while this editor has the form open.
        var api = await AdminApiAsync();
        (await api.PatchJson($"/api/products/{id}", new { name = $"Compass Pro {tag}" })).StatusCode.Should().Be(HttpStatusCode.OK);

        await Field("Description").FillAsync("My edit.");
        await Button("Save changes").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Someone else changed this product after you opened it.");
        var unchanged = await (await api.GetAsync($"/api/products/{id}")).ShouldBe(HttpStatusCode.OK);
        unchanged.Str("name").Should().Be($"Compass Pro {tag}", "the other editor's change must survive");

        await Button("Reload latest version").ClickAsync();
        await Expect(Field("Name")).ToHaveValueAsync($"Compass Pro {tag}");
        await Field("Description").FillAsync("My edit, again.");
        await Button("Save changes").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Saved “Compass Pro {tag}”.");
        var saved = await (await api.GetAsync($"/api/products/{id}")).ShouldBe(HttpStatusCode.OK);
        saved.Str("description").Should().Be("My edit, again.");
    }

    [Fact]
    public async Task A_change_the_form_does_not_edit_such_as_stock_or_images_does_not_stop_the_save()
    {
        var tag = Tag();
        var product = await CreateProductAsync($"Lantern {tag}");
        var id = product.GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{id}"));
        await Expect(Field("Name")).ToHaveValueAsync($"Lantern {tag}");

        // A delivery is booked while the editor has the form open: the product's ETag changes, its fields do not.
        var api = await AdminApiAsync();
        var variant = product.GetProperty("variants")[0].GetProperty("id").GetInt64();
        (await api.PostJson($"/api/variants/{variant}/stock/adjustments", new { delta = 5, reason = "delivery" })).StatusCode.Should().Be(HttpStatusCode.OK);

        await Field("Description").FillAsync("Brass, with a glass chimney.");
        await Button("Save changes").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Saved “Lantern {tag}”.");
        var saved = await (await api.GetAsync($"/api/products/{id}")).ShouldBe(HttpStatusCode.OK);
        saved.Str("description").Should().Be("Brass, with a glass chimney.");
    }

    [Fact]
    public async Task A_deleted_product_leaves_the_list_and_can_be_restored()
    {
        var tag = Tag();
        await CreateProductAsync($"Canteen {tag}");
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products?search={tag}"));
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();

        await Button($"Delete Canteen {tag}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Deleted “Canteen {tag}”.");
        await Expect(Page.GetByText("No products match.")).ToBeVisibleAsync();

        await Field("Include deleted").CheckAsync();
        await Button("Apply").ClickAsync();
        var row = Page.Locator("table.data tbody tr", new PageLocatorOptions { HasText = $"Canteen {tag}" });
        await Expect(row).ToContainTextAsync("Deleted");
        await Button($"Restore Canteen {tag}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Restored “Canteen {tag}”.");
        await Expect(row).ToContainTextAsync("Active");
    }

    [Fact]
    public async Task A_price_typed_with_a_leading_zero_is_saved_as_the_number()
    {
        var tag = Tag();
        var id = (await CreateProductAsync($"Zero {tag}")).GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{id}"));
        await Expect(Field("Name")).ToHaveValueAsync($"Zero {tag}");

        await Field("Price").FillAsync("05.50");
        await Button("Save changes").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Saved “Zero {tag}”.");
        var api = await AdminApiAsync();
        var saved = await (await api.GetAsync($"/api/products/{id}")).ShouldBe(HttpStatusCode.OK);
        saved.GetProperty("price").GetDecimal().Should().Be(5.5m);
    }
}
