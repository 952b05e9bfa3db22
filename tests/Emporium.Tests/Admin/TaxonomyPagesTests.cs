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
        await Expect(Page.Locator("table.data tbody")).ToContainTextAsync($"northwind-{tag}");

        await Field("Name").FillAsync($"Northwind again {tag}");
        await Field("Slug").FillAsync($"northwind-{tag}");
        await Button("Create brand").ClickAsync();
        await Expect(Page.Locator("[data-error-for='slug']")).ToContainTextAsync("already taken");
        await Expect(Field("Slug")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Field("Slug")).ToBeFocusedAsync();
        await Expect(Page.Locator("[data-error-for='name']")).ToBeEmptyAsync();
    }

    private static string Slug(System.Text.Json.JsonElement element) => element.GetProperty("slug").GetString()!;
}
