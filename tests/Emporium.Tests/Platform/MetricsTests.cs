using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Emporium.Platform.Security;
using System.Text.RegularExpressions;
using Emporium.Tests.Features.Commerce;
using Emporium.Tests.Features.Import;
using Emporium.Tests.Features.Jobs;
using WebhookReceiver = Emporium.Tests.Features.Webhooks.WebhookReceiver;
using WebhookSettings = Emporium.Tests.Features.Webhooks.WebhookSettings;
using static Emporium.Tests.Features.Webhooks.WebhookDeliveryTestKit;
using Emporium.Tests.Infrastructure;
using static Emporium.Tests.Features.Catalog.Products.ProductTestKit;

namespace Emporium.Tests.Platform;

public class MetricsApp : SqliteApp
{
    public const string Token = "a scrape secret for the tests";

    public MetricsApp() => With("Telemetry:Prometheus:Enabled", "true").With("Telemetry:Prometheus:Token", Token);
}

/// <summary>/metrics: Prometheus text, for the scraper's token or an admin, never anonymous.</summary>
public sealed class MetricsTests(MetricsApp app) : IClassFixture<MetricsApp>
{
    [Fact]
    public async Task Metrics_are_served_as_prometheus_text_to_the_scraper_and_admins_only()
    {
        // What the meters count is checked on a service process of its own (WorkMetricsTests): hosts sharing a test process
        // share OpenTelemetry's view of meters by name.
        var staff = await app.NewUserAsync(Roles.Staff);
        (await app.Anonymous().GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await staff.Http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "staff are not admins");
        var wrong = app.Anonymous();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not the secret");
        (await wrong.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var scraper = app.Anonymous();
        scraper.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MetricsApp.Token);
        var text = await ScrapeUntilAsync(scraper, "http_server_request_duration_seconds");
        text.Should().Contain("# TYPE", "Prometheus text exposition");

        var admin = await app.NewUserAsync(Roles.Admin);
        (await admin.Http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    /// <summary>The exporter collects on request, and a counter shows up once it has been recorded.</summary>
    internal static async Task<string> ScrapeUntilAsync(HttpClient scraper, string metric)
    {
        var deadline = TestTime.Deadline(20);
        while (true)
        {
            var response = await scraper.GetAsync("/metrics");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.Should().BeOneOf("text/plain", "application/openmetrics-text");
            var text = await response.Content.ReadAsStringAsync();
            if (text.Contains(metric, StringComparison.Ordinal))
            {
                return text;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "{0} should be exported: {1}", metric, text);
            await Task.Delay(200);
        }
    }
}

/// <summary>
/// What Emporium's meters count (cache lookups, checkouts, finished jobs, the queue's gauges, webhook attempts, imported
/// rows), scraped from a real service process (one job at a time, so a
/// second job waits in the queue); the test's own host, API only, shares its PostgreSQL database to enqueue jobs and
/// write events. A separate process, because OpenTelemetry stops exporting a meter name once any meter of that name in
/// the process is disposed (open-telemetry/opentelemetry-dotnet#6412), which the test run's other hosts do all the time.
/// </summary>
public sealed class WorkMetricsTests(JobsApiOnlyPostgresApp app) : IClassFixture<JobsApiOnlyPostgresApp>
{
    [Fact]
    public async Task Imports_webhook_attempts_and_the_queue_are_measured()
    {
        var environment = new Dictionary<string, string?>
        {
            ["Emporium__DataDirectory"] = app.DataDirectory,
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = app.Database,
            ["Telemetry__Prometheus__Enabled"] = "true",
            ["Telemetry__Prometheus__Token"] = MetricsApp.Token,
            ["Jobs__Concurrency"] = "1",
            ["Jobs__PollInterval"] = "00:00:00.100",
            ["EMPORIUM_ADMIN_EMAIL"] = EmporiumApp.AdminEmail,
            ["EMPORIUM_ADMIN_PASSWORD"] = EmporiumApp.AdminPassword,
            ["Logging__Json"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in WebhookSettings.Fast)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        await using var service = await ServiceProcess.StartAsync(["--role", "all"], environment);
        var login = await (await service.Http.PostAsJsonAsync("/api/auth/login", new { email = EmporiumApp.AdminEmail, password = EmporiumApp.AdminPassword }))
            .ShouldBe(HttpStatusCode.OK);
        service.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.Str("access_token"));
        using var scraper = new HttpClient { BaseAddress = service.Http.BaseAddress };
        scraper.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MetricsApp.Token);
        await using var receiver = await WebhookReceiver.StartAsync();
        await app.SubscribeAsync(receiver.Url());

        // The cache: a product read twice, a miss then a hit.
        var product = await (await service.Http.PostJson("/api/products", new { sku = Tag(), name = "Measured", price = 5m })).ShouldBe(HttpStatusCode.Created);
        using var anonymous = new HttpClient { BaseAddress = service.Http.BaseAddress };
        for (var i = 0; i < 2; i++)
        {
            await (await anonymous.GetAsync($"/api/products/{product.Id()}")).ShouldBe(HttpStatusCode.OK);
            await (await anonymous.GetAsync($"/api/products/{product.Str("slug")}")).ShouldBe(HttpStatusCode.OK);
        }

        var cache = await MetricsTests.ScrapeUntilAsync(scraper, "emporium_cache_lookups_total{");
        cache.Should().MatchRegex("emporium_cache_lookups_total\\{[^}]*outcome=\"hit\"").And.MatchRegex("emporium_cache_lookups_total\\{[^}]*outcome=\"miss\"");
        cache.Should().MatchRegex("emporium_cache_lookups_total\\{[^}]*entry=\"slug\"[^}]*outcome=\"hit\"[^}]*\\} 1\\b", "a slug read again is a hit too");

        // A checkout placed, one short of stock (a stock conflict), and the confirmation email's job finishing.
        var item = await service.Http.ProductForSaleAsync(5m, stock: 1);
        var email = $"buyer-{Guid.NewGuid():N}@example.com";
        await (await anonymous.PostJson("/api/auth/register", new { email, password = "a long enough password" })).ShouldBe(HttpStatusCode.Created);
        var buyerLogin = await (await anonymous.PostJson("/api/auth/login", new { email, password = "a long enough password" })).ShouldBe(HttpStatusCode.OK);
        using var customer = new HttpClient { BaseAddress = service.Http.BaseAddress };
        customer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", buyerLogin.Str("access_token"));
        await customer.AddToCartAsync(item.VariantId, 1);
        await (await customer.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
        await customer.AddToCartAsync(item.VariantId, 1);
        await (await customer.CheckoutAsync()).ShouldBeProblem(HttpStatusCode.Conflict);
        var work = await MetricsTests.ScrapeUntilAsync(scraper, "emporium_jobs_finished_total{");
        work.Should().MatchRegex("emporium_checkouts_total\\{[^}]*outcome=\"placed\"[^}]*\\} 1");
        work.Should().MatchRegex("emporium_checkouts_total\\{[^}]*outcome=\"out_of_stock\"[^}]*\\} 1");
        work.Should().MatchRegex("emporium_jobs_finished_total\\{[^}]*kind=\"[a-z_.]+\"[^}]*outcome=\"completed\"");

        var tag = Tag();
        var import = await Uploads.ImportAsync(service.Http, Uploads.Raw($"sku,name\r\n{tag}-1,One\r\n{tag}-2,Two\r\n,No SKU\r\n"));
        import.Str("status").Should().Be("COMPLETED");
        var rows = await MetricsTests.ScrapeUntilAsync(scraper, "emporium_import_rows_total{");
        rows.Should().MatchRegex("emporium_import_rows_total\\{[^}]*outcome=\"created\"[^}]*\\} 2");
        rows.Should().MatchRegex("emporium_import_rows_total\\{[^}]*outcome=\"rejected\"[^}]*\\} 1");

        await app.WriteEventsAsync();
        await receiver.WaitForAsync(received => received.Count >= 1);
        var webhooks = await MetricsTests.ScrapeUntilAsync(scraper, "emporium_webhooks_attempts_total{");
        webhooks.Should().MatchRegex("emporium_webhooks_attempts_total\\{[^}]*outcome=\"succeeded\"");
        webhooks.Should().Contain("emporium_webhooks_attempt_duration_seconds_bucket{");

        // One job runs at a time: the first sleeps, the second waits, due, in the queue.
        var running = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 30 });
        var waiting = await app.EnqueueAsync("diagnostics.sleep", new { seconds = 30 });
        var deadline = TestTime.Deadline(30);
        while (true)
        {
            var queue = await MetricsTests.ScrapeUntilAsync(scraper, "emporium_jobs_queued{");
            if (Regex.IsMatch(queue, "emporium_jobs_queued\\{[^}]*kind=\"diagnostics.sleep\"[^}]*status=\"PENDING\"[^}]*\\} 1")
                && Regex.IsMatch(queue, "emporium_jobs_queued\\{[^}]*kind=\"diagnostics.sleep\"[^}]*status=\"PROCESSING\"[^}]*\\} 1")
                && Regex.Match(queue, "emporium_jobs_oldest_due_age_seconds\\{[^}]*kind=\"diagnostics.sleep\"[^}]*\\} ([0-9.e+-]+)") is { Success: true } age
                && double.Parse(age.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                break;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, "the gauges should show one sleep job running and one waiting: {0}", queue);
            await Task.Delay(500);
        }

        foreach (var id in new[] { waiting, running })
        {
            (await service.Http.PostAsync($"/api/jobs/{id}/cancel", null)).IsSuccessStatusCode.Should().BeTrue();
        }
    }
}

/// <summary>OTLP over HTTP to a local receiver, as an OpenTelemetry Collector would take it.</summary>
public sealed class OtlpExportTests : IAsyncLifetime, IDisposable
{
    private readonly System.Net.HttpListener _receiver = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Path, string ContentType, long Bytes)> _received = new();
    private readonly int _port = FreePort();
    private Task _serving = Task.CompletedTask;

    public Task InitializeAsync()
    {
        _receiver.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _receiver.Start();
        _serving = Task.Run(async () =>
        {
            while (_receiver.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await _receiver.GetContextAsync();
                }
                catch (Exception exception) when (exception is System.Net.HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _received.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", body.Length));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _receiver.Stop();
        await _serving;
    }

    public void Dispose() => ((IDisposable)_receiver).Dispose();

    [Fact]
    public async Task Traces_metrics_and_logs_reach_an_otlp_receiver()
    {
        await using var app = new SqliteApp();
        app.With("OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{_port}")
            .With("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .With("OTEL_METRIC_EXPORT_INTERVAL", "300")
            .With("OTEL_BSP_SCHEDULE_DELAY", "200")
            .With("OTEL_BLRP_SCHEDULE_DELAY", "200")
            .With("Logging:LogLevel:Default", "Information");
        var staff = await app.NewUserAsync(Roles.Staff);
        await staff.Http.CreateProductAsync(Tag(), "Traced");

        var deadline = TestTime.Deadline(30);
        foreach (var signal in new[] { "/v1/traces", "/v1/metrics", "/v1/logs" })
        {
            while (!_received.Any(r => r.Path == signal && r.Bytes > 0))
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "{0} should be exported; received {1}", signal, string.Join(", ", _received.Select(r => r.Path)));
                await Task.Delay(100);
            }
        }

        _received.Should().OnlyContain(r => r.ContentType == "application/x-protobuf");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
