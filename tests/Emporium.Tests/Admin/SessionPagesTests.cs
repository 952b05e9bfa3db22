using System.Net;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

/// <summary>The session across token renewals that fail for a while, role changes, and pages with several calls at once.</summary>
public sealed class SessionPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    /// <summary>Makes the next API call renew the access token first.</summary>
    private Task ExpireAccessTokenAsync(string? refreshToken = null) => ExpireAccessTokenAsync(Page, refreshToken);

    private static async Task ExpireAccessTokenAsync(IPage tab, string? refreshToken = null) =>
        await tab.EvaluateAsync("""
            (refreshToken) => {
              const s = JSON.parse(sessionStorage.getItem('emporium.admin.session'));
              s.expires_at = Date.now();
              if (refreshToken) s.refresh_token = refreshToken;
              sessionStorage.setItem('emporium.admin.session', JSON.stringify(s));
            }
            """, refreshToken);

    [Fact]
    public async Task A_renewal_the_server_cannot_answer_keeps_the_session_and_the_edits_and_saving_again_works()
    {
        var tag = Tag();
        var id = (await CreateProductAsync($"Kettle {tag}")).GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{id}"));
        await Expect(Field("Name")).ToHaveValueAsync($"Kettle {tag}");
        await Field("Name").FillAsync($"Kettle deluxe {tag}");

        // A deploy in progress (or the auth rate limit): the refresh token is not spent, the session is not over.
        await Page.RouteAsync("**/api/auth/refresh", route => route.FulfillAsync(new RouteFulfillOptions { Status = 503 }));
        await ExpireAccessTokenAsync();
        await Button("Save changes").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("could not be renewed");
        await Expect(Heading("Sign in")).ToBeHiddenAsync();
        await Expect(Field("Name")).ToHaveValueAsync($"Kettle deluxe {tag}");

        await Page.UnrouteAsync("**/api/auth/refresh");
        await Button("Save changes").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Saved “Kettle deluxe {tag}”.");
    }

    [Fact]
    public async Task A_refused_refresh_token_on_a_page_of_several_calls_returns_to_that_page_after_signing_in()
    {
        var tag = Tag();
        var id = (await CreateProductAsync($"Tarp {tag}")).GetProperty("id").GetInt64();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/products/{id}"));
        await Expect(Heading($"Edit Tarp {tag}")).ToBeVisibleAsync();

        await ExpireAccessTokenAsync("not-a-refresh-token");
        await Page.ReloadAsync();
        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        await Field("Email").FillAsync(EmporiumApp.AdminEmail);
        await Field("Password").FillAsync(EmporiumApp.AdminPassword);
        await Button("Sign in").ClickAsync();

        await Expect(Heading($"Edit Tarp {tag}")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_seller_promoted_to_staff_gets_the_stores_pages_at_the_next_renewal()
    {
        var tag = Tag();
        var email = $"promoted-{tag}@emporium.test";
        const string password = "a seller's long passphrase";
        var registered = await (await App.Anonymous().PostJson("/api/auth/register", new { email, password })).ShouldBe(HttpStatusCode.Created);
        var userId = registered.GetProperty("id").GetInt64();
        var admin = await AdminApiAsync();
        await (await admin.PutJson($"/api/users/{userId}/roles", new { roles = new[] { "seller" } })).ShouldBe(HttpStatusCode.OK);
        await Page.GotoAsync(App.AdminUrl("/login"));
        await Field("Email").FillAsync(email);
        await Field("Password").FillAsync(password);
        await Button("Sign in").ClickAsync();
        await Expect(Heading("Products")).ToBeVisibleAsync();
        var brands = Page.Locator("#nav").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "Brands" });
        await Expect(brands).ToBeHiddenAsync();

        await (await admin.PutJson($"/api/users/{userId}/roles", new { roles = new[] { "staff" } })).ShouldBe(HttpStatusCode.OK);
        await ExpireAccessTokenAsync();
        await Page.ReloadAsync();

        await Expect(Heading("Products")).ToBeVisibleAsync();
        await Expect(brands).ToBeVisibleAsync();
    }

    /// <summary>Signs in on the brands page and opens the categories page in a new tab, as a link opened there would.</summary>
    private async Task<IPage> SignedInWithASecondTabAsync()
    {
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/brands"));
        await Expect(Heading("Brands")).ToBeVisibleAsync();
        var opened = Page.WaitForPopupAsync();
        await Page.EvaluateAsync("() => window.open(location.href.replace('#/brands', '#/categories'))");
        var other = await opened;
        await Expect(other.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Categories", Exact = true })).ToBeVisibleAsync();
        return other;
    }

    /// <summary>
    /// A link opened in a new tab starts with a copy of the tab's session, refresh token included. Each tab renewing with
    /// it spent the same single-use token twice, which the API takes for theft: the login was revoked in both tabs.
    /// </summary>
    [Fact]
    public async Task A_page_opened_in_a_new_tab_shares_the_login_and_renewing_in_either_tab_keeps_both_signed_in()
    {
        var other = await SignedInWithASecondTabAsync();

        // Renew in the first tab, then in the second, then in the first again.
        foreach (var (tab, route, heading) in new[] { (Page, "/products", "Products"), (other, "/brands", "Brands"), (Page, "/categories", "Categories") })
        {
            await ExpireAccessTokenAsync(tab);
            await tab.GotoAsync(App.AdminUrl(route));
            await Expect(tab.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = heading, Exact = true })).ToBeVisibleAsync();
        }

        await Expect(Page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Sign in" })).ToBeHiddenAsync();
        await Expect(other.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Sign in" })).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Signing_out_in_one_tab_signs_out_the_tabs_opened_from_it()
    {
        var other = await SignedInWithASecondTabAsync();

        await Button("Sign out").ClickAsync();

        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        // The API revoked the login: the other tab does not go on showing the store until its next renewal.
        await Expect(other.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Sign in" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_skip_link_moves_to_the_content_and_stays_on_the_page()
    {
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/brands"));
        await Expect(Heading("Brands")).ToBeVisibleAsync();

        await Page.Locator(".skip-link").FocusAsync();
        await Page.Keyboard.PressAsync("Enter");

        await Expect(Page.Locator("#main")).ToBeFocusedAsync();
        await Expect(Heading("Brands")).ToBeVisibleAsync();
        new Uri(Page.Url).Fragment.Should().Be("#/brands");
    }
}
