using System.Net;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed class UserPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    private const string Password = "a long enough passphrase";

    [Fact]
    public async Task The_root_of_the_service_opens_the_admin_ui()
    {
        await Page.GotoAsync($"{App.BaseUrl}/");

        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin#/login$"));
        await Expect(Heading("Sign in")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_admin_creates_a_staff_account_that_can_then_sign_in()
    {
        var email = $"staff-{Tag()}@emporium.test";
        await SignInAsync();
        await Page.Locator("#nav").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "Users" }).ClickAsync();
        await Expect(Heading("Users")).ToBeVisibleAsync();

        await Field("Email").FillAsync(email);
        await Field("Password").FillAsync("short");
        await Field("Role").SelectOptionAsync("staff");
        await Button("Create user").ClickAsync();
        await Expect(Page.Locator("[data-error-for='password']")).Not.ToBeEmptyAsync();

        await Field("Password").FillAsync(Password);
        await Button("Create user").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Created staff account {email}.");
        await Page.GotoAsync(App.AdminUrl($"/users?email={Uri.EscapeDataString(email)}"));
        await Expect(Page.Locator("table.data tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.GetByLabel($"Role of {email}", new PageGetByLabelOptions { Exact = true })).ToHaveValueAsync("staff");

        (await App.Anonymous().PostJson("/api/auth/login", new { email, password = Password })).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_admin_locks_and_unlocks_an_account_and_changes_its_role()
    {
        var email = $"seller-{Tag()}@emporium.test";
        var api = await AdminApiAsync();
        await (await api.PostJson("/api/users", new { email, password = Password, roles = new[] { "customer" } })).ShouldBe(HttpStatusCode.Created);
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/users?email={Uri.EscapeDataString(email)}"));
        var row = Page.Locator("table.data tbody tr");

        await Button($"Lock {email}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Locked {email}.");
        await Expect(row).ToContainTextAsync("Locked");
        (await App.Anonymous().PostJson("/api/auth/login", new { email, password = Password })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        await Button($"Unlock {email}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Unlocked {email}.");
        await Expect(row).ToContainTextAsync("Active");

        await Page.GetByLabel($"Role of {email}", new PageGetByLabelOptions { Exact = true }).SelectOptionAsync("seller");
        await Button($"Change role of {email}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"{email} is now seller.");
        var login = await (await App.Anonymous().PostJson("/api/auth/login", new { email, password = Password })).ShouldBe(HttpStatusCode.OK);
        Features.Identity.AuthApi.RolesIn(login.Str("access_token")).Should().Equal("seller");
    }

    [Fact]
    public async Task An_admin_sets_a_lost_password_and_the_old_one_stops_working()
    {
        var email = $"forgetful-{Tag()}@emporium.test";
        var api = await AdminApiAsync();
        await (await api.PostJson("/api/users", new { email, password = Password, roles = new[] { "staff" } })).ShouldBe(HttpStatusCode.Created);
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl($"/users?email={Uri.EscapeDataString(email)}"));

        await Page.GetByText("Set password").ClickAsync();
        await Page.GetByLabel($"New password for {email}", new PageGetByLabelOptions { Exact = true }).FillAsync("short");
        await Button($"Set password of {email}").ClickAsync();
        await Expect(Page.Locator(".form-message").First).ToContainTextAsync($"{email} was not changed.");

        await Page.GetByLabel($"New password for {email}", new PageGetByLabelOptions { Exact = true }).FillAsync("a brand new passphrase");
        await Button($"Set password of {email}").ClickAsync();
        await Expect(Flash).ToHaveTextAsync($"Set a new password for {email}; their sessions end at once.");
        (await App.Anonymous().PostJson("/api/auth/login", new { email, password = Password })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await App.Anonymous().PostJson("/api/auth/login", new { email, password = "a brand new passphrase" })).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Staff_do_not_see_the_users_section()
    {
        var email = $"staff-{Tag()}@emporium.test";
        var api = await AdminApiAsync();
        await (await api.PostJson("/api/users", new { email, password = Password, roles = new[] { "staff" } })).ShouldBe(HttpStatusCode.Created);

        await Page.GotoAsync(App.AdminUrl("/login"));
        await Field("Email").FillAsync(email);
        await Field("Password").FillAsync(Password);
        await Button("Sign in").ClickAsync();

        await Expect(Heading("Products")).ToBeVisibleAsync();
        await Expect(Page.Locator("#nav").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "Brands" })).ToBeVisibleAsync();
        await Expect(Page.Locator("#nav").GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "Users" })).ToBeHiddenAsync();
    }
}
