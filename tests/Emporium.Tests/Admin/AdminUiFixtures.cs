using Emporium.Data;
using Emporium.Infrastructure.Persistence;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Emporium.Tests.Admin;

/// <summary>
/// The service on a real loopback socket: a browser cannot reach the in-memory TestServer. SQLite is
/// enough here; the API's provider behaviour is covered by the API tests.
/// </summary>
public sealed class AdminUiApp : EmporiumApp
{
    public AdminUiApp()
    {
        UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        // The webhooks page tests a receiver on loopback over http.
        With("Webhooks:AllowPrivateNetworks", "true");
        With("Webhooks:AllowHttp", "true");
        // The jobs pages cancel a running job: its worker notices at the next heartbeat, a third of the lease (2 s
        // here rather than 10 s). Not shorter: a busy SQLite import can miss a 1 s heartbeat and lose its lease.
        With("Jobs:LeaseDuration", "00:00:06");
    }

    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override string ConnectionString => $"Data Source={Path.Combine(DataDirectory, "emporium.db")}";

    /// <summary>http://127.0.0.1:PORT, known once the server has started.</summary>
    public string BaseUrl { get; private set; } = "";

    public override Task InitializeAsync()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().TrimEnd('/');
        ClientOptions.BaseAddress = new Uri(BaseUrl);
        return Task.CompletedTask;
    }

    public string AdminUrl(string route = "/products") => $"{BaseUrl}/admin#{route}";
}

/// <summary>
/// Debian's Chromium, launched once per test class (each test takes a fresh context). Playwright never
/// downloads a browser here: there is no internet, and the system one is what CI installs.
/// </summary>
public sealed class ChromiumBrowser : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: run the suite with scripts/test, which installs Debian's chromium package.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Arguments,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
