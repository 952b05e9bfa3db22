using System.Net;
using Emporium.Tests.Features.Webhooks;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

public sealed class WebhookPagesTests(AdminUiApp app, ChromiumBrowser chromium) : AdminUiTest(app, chromium)
{
    [Fact]
    public async Task A_subscription_is_created_with_its_secret_shown_once_tested_and_rotated()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.Url($"/hook-{Tag()}").ToString();
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await OpenWebhooksPageAsync();

        await Field("URL").FillAsync(url);
        await Field("Description").FillAsync("Browser test");
        await Button("Create subscription").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Created webhook subscription for {url}.");
        var secret = (await Page.Locator("#webhook-secret").TextContentAsync())!;
        secret.Should().StartWith("whsec_");
        await Expect(Page.Locator("table.data tbody")).ToContainTextAsync(url);

        await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = $"Send test to {url}" }).ClickAsync();
        await Expect(Page.Locator(".test-result")).ToContainTextAsync("Test delivered: HTTP 200");
        receiver.Received.Should().ContainSingle().Which.IsSignedWith(secret).Should().BeTrue();

        await Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = $"Rotate secret of {url}" }).ClickAsync();
        await Expect(Flash).ToHaveTextAsync("Secret rotated.");
        // The flash shows as the new render starts; the new secret arrives when it ends.
        await Expect(Page.Locator("#webhook-secret")).Not.ToHaveTextAsync(secret);
        var rotated = (await Page.Locator("#webhook-secret").TextContentAsync())!;
        rotated.Should().StartWith("whsec_").And.NotBe(secret);

        await Page.ReloadAsync();
        await Expect(Heading("Webhooks")).ToBeVisibleAsync();
        await Expect(Page.Locator("table.data tbody")).ToContainTextAsync("Old secret signs until");
        await Expect(Page.Locator("#webhook-secret")).ToHaveCountAsync(0);
        (await Page.ContentAsync()).Should().NotContain(rotated).And.NotContain(secret);
    }

    [Fact]
    public async Task A_subscription_is_disabled_enabled_again_and_deleted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.Url($"/hook-{Tag()}").ToString();
        var api = await AdminApiAsync();
        var id = (await api.SubscribeAsync(url)).Id();
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/webhooks"));
        var row = Page.Locator($"tr[data-id='{id}']");
        await Expect(row).ToContainTextAsync("Active");

        await Button($"Disable {url}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Disabled {url}: events are no longer sent to it.");
        await Expect(row).ToContainTextAsync("Inactive");
        (await (await api.GetAsync($"/api/webhooks/{id}")).ShouldBe(System.Net.HttpStatusCode.OK)).GetProperty("is_active").GetBoolean().Should().BeFalse();

        await Button($"Enable {url}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Enabled {url}.");
        await Expect(row).ToContainTextAsync("Active");

        await Button($"Delete {url}").ClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Deleted the subscription for {url}.");
        await Expect(row).ToHaveCountAsync(0);
        (await api.GetAsync($"/api/webhooks/{id}")).StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_blocked_address_is_reported_next_to_the_url_field()
    {
        await SignInAsync();
        await Page.GotoAsync(App.AdminUrl("/webhooks"));

        await Field("URL").FillAsync("http://169.254.169.254/latest/meta-data/");
        await Button("Create subscription").ClickAsync();

        await Expect(Page.Locator("[data-error-for='url']")).ToContainTextAsync("cloud metadata endpoint");
    }

    [Fact]
    public async Task A_double_click_on_create_makes_one_subscription()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.Url($"/hook-{Tag()}").ToString();
        await OpenWebhooksPageAsync();

        var posts = 0;
        Page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/api/webhooks", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref posts);
            }
        };
        await Field("URL").FillAsync(url);
        await Button("Create subscription").DblClickAsync();

        await Expect(Flash).ToHaveTextAsync($"Created webhook subscription for {url}.");
        await Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        posts.Should().Be(1, "the button is disabled while the first request runs");
        var admin = await AdminApiAsync();
        var list = await (await admin.GetAsync("/api/webhooks?page_size=100")).ShouldBe(HttpStatusCode.OK);
        list.GetProperty("results").EnumerateArray().Count(hook => hook.Str("url") == url).Should().Be(1);
    }

    [Fact]
    public async Task The_new_secret_is_shown_even_when_the_list_after_the_create_fails_to_load()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = receiver.Url($"/hook-{Tag()}").ToString();
        await OpenWebhooksPageAsync();
        // The list read after the create meets a server that is restarting.
        await Page.RouteAsync("**/api/webhooks?*", route => route.FulfillAsync(new RouteFulfillOptions { Status = 503 }));

        await Field("URL").FillAsync(url);
        await Button("Create subscription").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("could not be loaded");
        await Expect(Page.Locator("#webhook-secret")).ToContainTextAsync("whsec_");
    }

    private async Task OpenWebhooksPageAsync()
    {
        await SignInAsync();
        await Page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Webhooks" }).ClickAsync();
        await Expect(Heading("Webhooks")).ToBeVisibleAsync();
    }
}
