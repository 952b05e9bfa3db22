using System.Net;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

/// <summary>Its own class, so its own app: deleting every product must not reach another test's catalog.</summary>
public sealed class DeleteAllPageTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task Every_product_is_deleted_only_after_the_phrase_is_typed_and_the_job_page_follows_it()
    {
        var tag = Tag();
        for (var i = 0; i < 3; i++)
        {
            await CreateProductAsync($"Doomed {i} {tag}");
        }

        await SignInAsync();
        await Button("Delete all…").ClickAsync();
        var confirm = Button("Delete all products");
        await Expect(confirm).ToBeDisabledAsync();
        await Field("Type DELETE ALL to confirm").FillAsync("delete all");
        await Expect(confirm).ToBeDisabledAsync();
        await Field("Type DELETE ALL to confirm").FillAsync("DELETE ALL");
        await confirm.ClickAsync();

        await Expect(Page.Locator(".job-status")).ToContainTextAsync("COMPLETED");
        await Page.GotoAsync(App.AdminUrl("/products"));
        await Expect(Page.Locator("p.empty")).ToHaveTextAsync("No products match.");
        var api = await AdminApiAsync();
        var deleted = await (await api.GetAsync($"/api/products?include_deleted=true&search={tag}")).ShouldBe(HttpStatusCode.OK);
        deleted.GetProperty("count").GetInt64().Should().Be(3, "a bulk delete is a soft delete: every product can be restored");
    }
}
