using System.Net;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed class SignInPageTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task Signing_in_as_the_admin_shows_the_products_page_with_the_catalog()
    {
        var tag = Tag();
        await CreateProductAsync($"Lantern {tag}");
        await CreateProductAsync($"Stove {tag}");

        await SignInAsync();

        var table = Page.Locator("table.data");
        await Expect(table).ToContainTextAsync($"Lantern {tag}");
        await Expect(table).ToContainTextAsync($"Stove {tag}");
        await Expect(Page.Locator("#account-email")).ToHaveTextAsync(EmporiumApp.AdminEmail);
        await Expect(Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Products" }))
            .ToHaveAttributeAsync("aria-current", "page");
    }

    [Fact]
    public async Task A_seller_signs_in_to_its_own_products_imports_and_jobs_without_the_stores_sections()
    {
        var tag = Tag();
        var email = $"seller-{tag}@emporium.test";
        const string password = "a seller's long passphrase";
        var registered = await (await App.Anonymous().PostJson("/api/auth/register", new { email, password })).ShouldBe(HttpStatusCode.Created);
        var admin = await AdminApiAsync();
        await (await admin.PutJson($"/api/users/{registered.GetProperty("id").GetInt64()}/roles", new { roles = new[] { "seller" } }))
            .ShouldBe(HttpStatusCode.OK);
        var seller = await App.Anonymous().PostJson("/api/auth/login", new { email, password });
        var token = (await seller.ShouldBe(HttpStatusCode.OK)).Str("access_token");
        using var sellerApi = App.Anonymous();
        sellerApi.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        await (await sellerApi.PostJson("/api/products", new { sku = $"own-{tag}", name = $"Own lantern {tag}", price = 5m, is_active = false }))
            .ShouldBe(HttpStatusCode.Created);
        await CreateProductAsync($"Store lantern {tag}");

        await Page.GotoAsync(App.AdminUrl("/login"));
        await Field("Email").FillAsync(email);
        await Field("Password").FillAsync(password);
        await Button("Sign in").ClickAsync();

        await Expect(Heading("Products")).ToBeVisibleAsync();
        var table = Page.Locator("table.data");
        await Expect(table).ToContainTextAsync($"Own lantern {tag}");
        await Expect(table).Not.ToContainTextAsync($"Store lantern {tag}");
        foreach (var section in new[] { "Products", "Import", "Jobs" })
        {
            await Expect(Page.Locator("#nav").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = section })).ToBeVisibleAsync();
        }

        foreach (var section in new[] { "Brands", "Categories", "Webhooks", "Users" })
        {
            await Expect(Page.Locator("#nav").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = section })).ToBeHiddenAsync();
        }
    }

    [Fact]
    public async Task A_customer_cannot_use_the_admin_area()
    {
        var tag = Tag();
        var email = $"customer-{tag}@emporium.test";
        const string password = "a customer's long passphrase";
        await (await App.Anonymous().PostJson("/api/auth/register", new { email, password })).ShouldBe(HttpStatusCode.Created);

        await Page.GotoAsync(App.AdminUrl("/login"));
        await Field("Email").FillAsync(email);
        await Field("Password").FillAsync(password);
        await Button("Sign in").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This account cannot use the admin area.");
        await Expect(Page.Locator("#nav")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_wrong_password_shows_the_problem_message_and_stays_signed_out()
    {
        await Page.GotoAsync(App.AdminUrl("/login"));
        await Field("Email").FillAsync(EmporiumApp.AdminEmail);
        await Field("Password").FillAsync("not the password");
        await Button("Sign in").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The email or password is incorrect");
        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        await Expect(Page.Locator("#nav")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Opening_a_page_while_signed_out_asks_to_sign_in_and_then_returns_to_it()
    {
        await Page.GotoAsync(App.AdminUrl("/brands"));
        await Expect(Heading("Sign in")).ToBeVisibleAsync();

        await Field("Email").FillAsync(EmporiumApp.AdminEmail);
        await Field("Password").FillAsync(EmporiumApp.AdminPassword);
        await Button("Sign in").ClickAsync();

        await Expect(Heading("Brands")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_rejected_access_token_is_refreshed_once_and_the_page_still_loads()
    {
        var tag = Tag();
        await CreateProductAsync($"Hammock {tag}");
        await SignInAsync();
        var before = await SessionAsync();

        // A token the server rejects, as after a key rotation: the next call gets 401, refreshes, retries.
        await Page.EvaluateAsync("""
            () => {
              const s = JSON.parse(sessionStorage.getItem('emporium.admin.session'));
              s.access_token = 'not-a-valid-token';
              sessionStorage.setItem('emporium.admin.session', JSON.stringify(s));
            }
            """);
        // include_deleted needs a staff token, so the API answers 401 rather than serving an anonymous list.
        await Page.GotoAsync(App.AdminUrl($"/products?include_deleted=true&search={tag}"));

        // The checked box proves the new page rendered, not the one from before the token was spoiled.
        await Expect(Field("Include deleted")).ToBeCheckedAsync();
        await Expect(Page.Locator("table.data")).ToContainTextAsync($"Hammock {tag}");
        var after = await SessionAsync();
        after.RefreshToken.Should().NotBe(before.RefreshToken, "the refresh token rotates on use");
        after.AccessToken.Should().NotBe("not-a-valid-token");
    }

    [Fact]
    public async Task Signing_out_revokes_the_refresh_token_and_shows_the_sign_in_page()
    {
        await SignInAsync();
        var session = await SessionAsync();

        await Button("Sign out").ClickAsync();

        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        await Expect(Flash).ToHaveTextAsync("You have signed out.");
        var refresh = await App.Anonymous().PostJson("/api/auth/refresh", new { refresh_token = session.RefreshToken });
        await refresh.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_admin_shell_is_served_with_a_strict_content_security_policy()
    {
        using var http = new HttpClient { BaseAddress = new Uri(App.BaseUrl) };

        var page = await http.GetAsync("/admin");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        page.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("script-src 'self'");
        var script = await http.GetAsync("/admin/js/app.js");
        script.StatusCode.Should().Be(HttpStatusCode.OK);
        script.Content.Headers.ContentType!.MediaType.Should().Be("text/javascript");

        var again = new HttpRequestMessage(HttpMethod.Get, "/admin/js/app.js");
        again.Headers.IfNoneMatch.ParseAdd(script.Headers.ETag!.ToString());
        (await http.SendAsync(again)).StatusCode.Should().Be(HttpStatusCode.NotModified);
        (await http.GetAsync("/admin/js/missing.js")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private async Task<(string AccessToken, string RefreshToken)> SessionAsync()
    {
        var session = await Page.EvaluateAsync<System.Text.Json.JsonElement>(
            "() => JSON.parse(sessionStorage.getItem('emporium.admin.session'))");
        return (session.Str("access_token"), session.Str("refresh_token"));
    }
}
