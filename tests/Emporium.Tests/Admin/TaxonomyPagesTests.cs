using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed class TaxonomyPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task The_category_tree_shows_subcategories_nested_under_their_parents()
    {
        var tag = Tag();
        var outdoor = await CreateAsync("/api/categories", new { name = $"Outdoor {tag}" });
        var camping = await CreateAsync("/api/categories", new { name = $"Camping {tag}", parent_id = outdoor.GetProperty("id").GetInt64() });
        var tents = await CreateAsync("/api/categories", new { name = $"Tents {tag}", parent_id = camping.GetProperty("id").GetInt64() });
        await SignInAsync();

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Categories" }).ClickAsync();

        await Expect(Heading("Categories")).ToBeVisibleAsync();
        var nested = Page.Locator(
            $"ul.tree > li[data-slug='{Slug(outdoor)}'] > ul > li[data-slug='{Slug(camping)}'] > ul > li[data-slug='{Slug(tents)}']");
        await Expect(nested).ToContainTextAsync($"Tents {tag}");
    }

    [Fact]
    public async Task A_category_created_with_a_parent_appears_under_it()
    {
        var tag = Tag();
        var parent = await CreateAsync("/api/categories", new { name = $"Water {tag}" });
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/categories"));

        await Field("Name").FillAsync($"Kayaks {tag}");
        await Field("Parent").SelectOptionAsync(new SelectOptionValue { Value = parent.GetProperty("id").ToString() });
        await Button("Create category").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Created category “Kayaks {tag}”.");
        await Expect(Page.Locator($"li[data-slug='{Slug(parent)}'] > ul > li")).ToContainTextAsync($"Kayaks {tag}");
    }

    [Fact]
    public async Task Brands_can_be_created_and_a_duplicate_slug_is_reported_on_the_field()
    {
        var tag = Tag();
        await SignInAsync();
        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Brands" }).ClickAsync();
        await Expect(Heading("Brands")).ToBeVisibleAsync();

        await Field("Name").FillAsync($"Northwind {tag}");
        await Field("Slug").FillAsync($"northwind-{tag}");
        await Button("Create brand").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Created brand “Northwind {tag}”.");
        await Page.GotoAsync(App.AdminUrl($"/brands?name={tag}"));
        // Only the filtered page's links carry name=: the form filled next is that page's, not the one it replaces.
        await Expect(Page.Locator($"table.data a[href*='name={tag}']")).ToBeVisibleAsync();
        await Expect(Page.Locator("table.data tbody")).ToContainTextAsync($"northwind-{tag}");

        await Field("Name").FillAsync($"Northwind again {tag}");
        await Field("Slug").FillAsync($"northwind-{tag}");
        await Button("Create brand").ClickAsync();
        await Expect(Page.Locator("[data-error-for='slug']")).ToContainTextAsync("already taken");
        await Expect(Field("Slug")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Field("Slug")).ToBeFocusedAsync();
        await Expect(Page.Locator("[data-error-for='name']")).ToBeEmptyAsync();
    }

    [Fact]
    public async Task A_brand_is_renamed_through_its_edit_form_and_deleted_from_the_list()
    {
        var tag = Tag();
        var brand = await CreateAsync("/api/brands", new { name = $"Contoso {tag}" });
        var doomed = await CreateAsync("/api/brands", new { name = $"Fabrikam {tag}" });
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/brands?name={tag}"));

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = $"Edit Contoso {tag}" }).ClickAsync();
        await Expect(Field("Name")).ToHaveValueAsync($"Contoso {tag}");
        await Field("Name").FillAsync($"Contoso Ltd {tag}");
        await Button("Save brand").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Saved brand “Contoso Ltd {tag}”.");
        var rows = Page.Locator("table.data tbody");
        await Expect(rows).ToContainTextAsync($"Contoso Ltd {tag}");
        await Expect(rows).ToContainTextAsync(Slug(brand));

        await Button($"Delete Fabrikam {tag}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Deleted “Fabrikam {tag}”.");
        await Expect(rows).Not.ToContainTextAsync($"Fabrikam {tag}");
        (await App.Anonymous().GetAsync($"/api/brands/{Slug(doomed)}")).StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound,
            "a deleted brand is hidden from everyone but staff");
    }

    [Fact]
    public async Task A_brand_changed_by_someone_else_meanwhile_is_not_overwritten()
    {
        var tag = Tag();
        var brand = await CreateAsync("/api/brands", new { name = $"Adatum {tag}" });
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/brands?name={tag}&edit={brand.GetProperty("id")}"));
        await Expect(Field("Name")).ToHaveValueAsync($"Adatum {tag}");

        var api = await AdminApiAsync();
        await (await api.PatchJson($"/api/brands/{brand.GetProperty("id")}", new { name = $"Adatum Corp {tag}" })).ShouldBe(System.Net.HttpStatusCode.OK);
        await Field("Name").FillAsync($"Adatum Mine {tag}");
        await Button("Save brand").ClickAsync();

        await Expect(Page.Locator(".form-message [role=alert]")).ToContainTextAsync("has changed");
        var stored = await (await api.GetAsync($"/api/brands/{brand.GetProperty("id")}")).ShouldBe(System.Net.HttpStatusCode.OK);
        stored.Str("name").Should().Be($"Adatum Corp {tag}");
    }

    [Fact]
    public async Task A_category_is_moved_under_another_through_its_edit_form()
    {
        var tag = Tag();
        var garden = await CreateAsync("/api/categories", new { name = $"Garden {tag}" });
        var tools = await CreateAsync("/api/categories", new { name = $"Tools {tag}" });
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/categories"));

        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = $"Edit Tools {tag}" }).ClickAsync();
        await Expect(Field("Name")).ToHaveValueAsync($"Tools {tag}");
        await Expect(Field("Parent").Locator($"option[value='{tools.GetProperty("id")}']")).ToHaveCountAsync(0);
        await Field("Parent").SelectOptionAsync(new SelectOptionValue { Value = garden.GetProperty("id").ToString() });
        await Field("Description").FillAsync("Spades and rakes");
        await Button("Save category").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Saved category “Tools {tag}”.");
        await Expect(Page.Locator($"li[data-slug='{Slug(garden)}'] > ul > li[data-slug='{Slug(tools)}']")).ToBeVisibleAsync();
        var stored = await (await (await AdminApiAsync()).GetAsync($"/api/categories/{tools.GetProperty("id")}")).ShouldBe(System.Net.HttpStatusCode.OK);
        stored.Str("description").Should().Be("Spades and rakes");
    }

    [Fact]
    public async Task A_category_with_subcategories_is_not_deleted_and_the_reason_is_shown()
    {
        var tag = Tag();
        var parent = await CreateAsync("/api/categories", new { name = $"Kitchen {tag}" });
        var child = await CreateAsync("/api/categories", new { name = $"Knives {tag}", parent_id = parent.GetProperty("id").GetInt64() });
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/categories"));

        await Button($"Delete Kitchen {tag}").ClickAsync();
        await Expect(Flash).ToContainTextAsync("still has 1 live subcategory");
        await Expect(Page.Locator($"li[data-slug='{Slug(parent)}']")).ToBeVisibleAsync();

        await Button($"Delete Knives {tag}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Deleted “Knives {tag}”.");
        await Expect(Page.Locator($"li[data-slug='{Slug(child)}']")).ToHaveCountAsync(0);
        await Button($"Delete Kitchen {tag}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Deleted “Kitchen {tag}”.");
        await Expect(Page.Locator($"li[data-slug='{Slug(parent)}']")).ToHaveCountAsync(0);
    }

    private static string Slug(System.Text.Json.JsonElement element) => element.GetProperty("slug").GetString()!;
}
