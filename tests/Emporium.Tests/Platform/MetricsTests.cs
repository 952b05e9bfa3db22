using System.Net;
using System.Net.Http.Headers;
using Emporium.Platform.Security;
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
