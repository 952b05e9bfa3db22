using System.Net;
using System.Text.Json;
using Emporium.Platform.Security;
using Emporium.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Emporium.Tests.Admin;

/// <summary>
/// Base of the browser tests: one app and one Chromium per class, a fresh browser context (empty
/// sessionStorage) per test, and helpers that act as a person would: by labels, roles and visible text.
/// </summary>
public abstract class AdminUiTest(AdminUiApp app, ChromiumBrowser chromium)
    : IClassFixture<AdminUiApp>, IClassFixture<ChromiumBrowser>, IAsyncLifetime
{
    private readonly List<string> _scriptErrors = [];
    private IBrowserContext _context = null!;
    private UserClient? _admin;

    protected AdminUiApp App { get; } = app;

    protected IPage Page { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
        });
        Page = await _context.NewPageAsync();
        Page.SetDefaultTimeout((float)TestTime.Of(15).TotalMilliseconds);
        SetDefaultExpectTimeout((float)TestTime.Of(15).TotalMilliseconds);
        Page.PageError += (_, error) => _scriptErrors.Add(error);
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        _scriptErrors.Should().BeEmpty("the admin UI must not throw in the browser");
    }

    /// <summary>An admin API client, for arranging data and for playing "someone else".</summary>
    protected async Task<HttpClient> AdminApiAsync() => (_admin ??= await App.NewUserAsync(Roles.Admin)).Http;

    protected static string Tag() => "t" + Guid.NewGuid().ToString("N")[..9];

    protected ILocator Heading(string name) =>
        Page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = name, Level = 1, Exact = true });

    protected ILocator Button(string name) =>
        Page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = name, Exact = true });

    protected ILocator Field(string label) => Page.GetByLabel(label, new PageGetByLabelOptions { Exact = true });

    protected ILocator Flash => Page.Locator("#flash");

    /// <summary>Signs in through the form as the seeded admin and lands on the products page.</summary>
    protected async Task SignInAsync()
    {
        await Page.GotoAsync(App.AdminUrl("/login"));
        await Field("Email").FillAsync(EmporiumApp.AdminEmail);
        await Field("Password").FillAsync(EmporiumApp.AdminPassword);
        await Button("Sign in").ClickAsync();
        await Expect(Heading("Products")).ToBeVisibleAsync();
    }

    protected async Task<JsonElement> CreateProductAsync(string name, decimal price = 10m, bool active = true)
    {
        var api = await AdminApiAsync();
        var response = await api.PostJson("/api/products", new
        {
            sku = $"SKU-{Guid.NewGuid():N}"[..20],
            name,
            price,
            is_active = active,
            description = $"About {name}",
        });
        return await response.ShouldBe(HttpStatusCode.Created);
    }

    protected async Task<JsonElement> CreateAsync(string url, object body)
    {
        var api = await AdminApiAsync();
        return await (await api.PostJson(url, body)).ShouldBe(HttpStatusCode.Created);
    }
}
