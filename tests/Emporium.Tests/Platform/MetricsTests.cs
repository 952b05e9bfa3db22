using System.Net;
using System.Net.Http.Headers;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Commerce;
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
        var staff = await app.NewUserAsync(Roles.Staff);
        var url = $"/api/products/{(await staff.Http.CreateProductAsync(Tag(), "Measured")).Id()}";
        await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        await (await app.Anonymous().GetAsync(url)).ShouldBe(HttpStatusCode.OK);

        (await app.Anonymous().GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await staff.Http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "staff are not admins");
        var wrong = app.Anonymous();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not the secret");
        (await wrong.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var scraper = app.Anonymous();
        scraper.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MetricsApp.Token);
        var text = await ScrapeUntilAsync(scraper, "emporium_cache_lookups");
        text.Should().Contain("outcome=\"hit\"").And.Contain("outcome=\"miss\"");
        text.Should().Contain("http_server_request_duration_seconds", "ASP.NET Core's own metrics are exported too");

        var admin = await app.NewUserAsync(Roles.Admin);
        (await admin.Http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.OK);

        // A checkout placed, one short of stock, and the confirmation email's job finishing.
        var item = await staff.Http.ProductForSaleAsync(5m, stock: 1);
        var customer = await app.NewUserAsync(Roles.Customer);
        await customer.Http.AddToCartAsync(item.VariantId, 1);
        await (await customer.Http.CheckoutAsync()).ShouldBe(HttpStatusCode.Created);
        await customer.Http.AddToCartAsync(item.VariantId, 1);
        await (await customer.Http.CheckoutAsync()).ShouldBeProblem(HttpStatusCode.Conflict);
        var work = await ScrapeUntilAsync(scraper, "emporium_jobs_finished_total{");
        work.Should().MatchRegex("emporium_checkouts_total\\{[^}]*outcome=\"placed\"[^}]*\\} 1");
        work.Should().MatchRegex("emporium_checkouts_total\\{[^}]*outcome=\"out_of_stock\"[^}]*\\} 1");
        work.Should().MatchRegex("emporium_jobs_finished_total\\{[^}]*kind=\"[a-z_.]+\"[^}]*outcome=\"completed\"");
    }

    /// <summary>The exporter collects on request, and a counter shows up once it has been recorded.</summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient scraper, string metric)
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
