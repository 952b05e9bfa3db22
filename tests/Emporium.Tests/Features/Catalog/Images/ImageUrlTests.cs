using System.Net;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Jobs;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace Emporium.Tests.Features.Catalog.Images;

/// <summary>
/// image_urls downloaded in the background from a real local HTTP server standing in for remote hosts: retries, the dead
/// path, the size and time limits, and SSRF refusals at save time and behind a redirect.
/// </summary>
public abstract class ImageUrlTests(EmporiumApp app) : IAsyncLifetime
{
    private Webhooks.WebhookReceiver _remote = null!;
    private readonly byte[] _photo = TestImages.Jpeg(800, 600);

    public async Task InitializeAsync() => _remote = await Webhooks.WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _remote.DisposeAsync();

    private async Task<(HttpClient Staff, long ProductId, long ImageId)> ProductFromUrlAsync(string path)
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var product = await staff.CreateProductAsync(new { sku = $"URL-{tag}", name = $"From URL {tag}", price = 3m, image_urls = new[] { _remote.Url(path).ToString() } });
        var image = product.GetProperty("images").EnumerateArray().Should().ContainSingle().Subject;
        image.Str("status").Should().Be("pending");
        image.Str("source_url").Should().Be(_remote.Url(path).ToString());
        return (staff, product.Id(), image.Id());
    }

    private Task<Job> JobOfAsync(long imageId) =>
        app.WithDbAsync(db => db.Set<Job>().Where(j => j.Kind == ImageProcessingJobHandler.KindName && j.Payload.Contains($"\"image_id\":{imageId},")).OrderByDescending(j => j.Id).FirstAsync());

    private async Task ServeAsync(HttpContext context, byte[] bytes, string contentType = "image/jpeg")
    {
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(bytes);
    }

    [Fact]
    public async Task A_url_image_is_downloaded_and_processed_and_a_second_save_does_not_add_it_again()
    {
        _remote.Respond = (request, context) => request.Path == "/ok.jpg" ? ServeAsync(context, _photo) : NotFound(context);
        var (staff, productId, imageId) = await ProductFromUrlAsync("/ok.jpg");

        var image = await staff.SettledAsync(imageId);
        image.Str("status").Should().Be("ready", image.GetProperty("failure_reason").ToString());
        image.GetProperty("original").GetProperty("bytes").GetInt64().Should().Be(_photo.Length);
        image.GetProperty("renditions").EnumerateArray().Should().HaveCount(8);

        var again = await (await staff.PatchJson($"/api/products/{productId}", new { image_urls = new[] { _remote.Url("/ok.jpg").ToString() } })).ShouldBe(HttpStatusCode.OK);
        again.GetProperty("images").EnumerateArray().Should().ContainSingle("the product has an image from that URL already");
    }

    [Fact]
    public async Task A_server_error_is_retried_until_the_image_arrives()
    {
        var calls = 0;
        _remote.Respond = (_, context) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 500;
                return Task.CompletedTask;
            }

            return ServeAsync(context, _photo);
        };
        var (staff, _, imageId) = await ProductFromUrlAsync("/flaky.jpg");

        (await staff.SettledAsync(imageId)).Str("status").Should().Be("ready");
        (await JobOfAsync(imageId)).Attempts.Should().Be(2);
    }

    [Fact]
    public async Task A_redirect_that_is_not_followed_fails_at_once_with_its_status_rather_than_being_retried()
    {
        // 300 (a choice of images) is no image and will be the same next time: it was retried to DEAD as a server fault.
        _remote.Respond = (_, context) =>
        {
            context.Response.StatusCode = 300;
            return Task.CompletedTask;
        };
        var (staff, _, imageId) = await ProductFromUrlAsync("/choices.jpg");

        var failed = await staff.SettledAsync(imageId);
        failed.Str("status").Should().Be("failed");
        failed.Str("failure_reason").Should().Contain("HTTP 300");
        (await JobOfAsync(imageId)).Attempts.Should().Be(1);
    }

    [Fact]
    public async Task A_url_that_always_fails_ends_dead_with_the_image_failed_and_a_retry_fetches_it_again()
    {
        var healthy = false;
        _remote.Respond = (_, context) =>
        {
            if (healthy)
            {
                return ServeAsync(context, _photo);
            }

            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        };
        var (staff, _, imageId) = await ProductFromUrlAsync("/down.jpg");

        var failed = await staff.SettledAsync(imageId);
        failed.Str("status").Should().Be("failed");
        failed.Str("failure_reason").Should().Contain("HTTP 503").And.NotContain("Exception");
        var job = await JobOfAsync(imageId);
        job.Status.Should().Be(JobStatus.DEAD);
        job.Attempts.Should().Be(3);

        healthy = true;
        var retried = await (await staff.PostAsync($"/api/images/{imageId}/retry", null)).ShouldBe(HttpStatusCode.Accepted);
        retried.Str("status").Should().Be("pending");
        (await staff.SettledAsync(imageId)).Str("status").Should().Be("ready");
    }

    [Fact]
    public async Task Too_large_too_slow_not_an_image_and_a_redirect_to_a_metadata_address_fail_with_their_reasons()
    {
        _remote.Respond = async (request, context) =>
        {
            switch (request.Path)
            {
                case "/huge.jpg":
                    await ServeAsync(context, new byte[3_000_001]);
                    break;
                case "/slow.jpg":
                    await Task.Delay(TimeSpan.FromSeconds(3), context.RequestAborted).ContinueWith(_ => { });
                    break;
                case "/page.jpg":
                    await ServeAsync(context, "<html>not an image</html>"u8.ToArray(), "image/jpeg");
                    break;
                case "/to-metadata.jpg":
                    context.Response.StatusCode = 302;
                    context.Response.Headers.Location = "http://169.254.169.254/latest/meta-data/";
                    break;
                case "/loop.jpg":
                    context.Response.StatusCode = 302;
                    context.Response.Headers.Location = "/loop.jpg";
                    break;
            }
        };

        var expectations = new (string Path, string Reason, JobStatus Job)[]
        {
            ("/huge.jpg", "more than 3,000,000 bytes", JobStatus.FAILED),
            ("/slow.jpg", "within 1 s", JobStatus.DEAD),
            ("/page.jpg", "did not deliver a JPEG", JobStatus.FAILED),
            ("/to-metadata.jpg", "169.254.169.254", JobStatus.FAILED),
            ("/loop.jpg", "redirects more than 2 times", JobStatus.FAILED),
        };
        var started = new List<(HttpClient Staff, long ImageId)>();
        foreach (var expectation in expectations)
        {
            var (staff, _, imageId) = await ProductFromUrlAsync(expectation.Path);
            started.Add((staff, imageId));
        }

        for (var i = 0; i < expectations.Length; i++)
        {
            var image = await started[i].Staff.SettledAsync(started[i].ImageId);
            image.Str("status").Should().Be("failed", expectations[i].Path);
            image.Str("failure_reason").Should().Contain(expectations[i].Reason);
            (await JobOfAsync(started[i].ImageId)).Status.Should().Be(expectations[i].Job, expectations[i].Path);
        }
    }

    [Fact]
    public async Task Urls_that_are_not_http_or_reach_a_metadata_address_are_refused_at_save_time()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        foreach (var url in new[] { "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "ftp://example.com/x.jpg", "http://user:pw@example.com/x.jpg" })
        {
            var refused = await (await staff.PostJson("/api/products", new { sku = $"BAD-{tag}", name = "Bad", price = 1m, image_urls = new[] { url } }))
                .ShouldBeProblem(HttpStatusCode.BadRequest);
            refused.GetProperty("errors").GetProperty("image_urls").ToString().Should().NotBeEmpty(url);
        }

        (await app.WithDbAsync(db => db.Set<Emporium.Features.Catalog.Product>().AnyAsync(p => p.Sku == $"BAD-{tag}"))).Should().BeFalse("nothing is written");
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    }
}

public sealed class ImageUrlTestsOnSqlite(ImagesSqliteApp app) : ImageUrlTests(app), IClassFixture<ImagesSqliteApp>;

public sealed class ImageUrlTestsOnPostgres(ImagesPostgresS3App app) : ImageUrlTests(app), IClassFixture<ImagesPostgresS3App>;

/// <summary>Production settings (Media:AllowPrivateNetworks=false): loopback and private hosts are refused when the product is saved.</summary>
public sealed class ImageUrlSsrfTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Theory]
    [InlineData("http://127.0.0.1:9/x.jpg", "loopback")]
    [InlineData("http://localhost/x.jpg", "loopback")]
    [InlineData("http://10.1.2.3/x.jpg", "private")]
    [InlineData("http://192.168.0.10/x.jpg", "private")]
    [InlineData("http://2130706433/x.jpg", "loopback")]
    public async Task Private_addresses_are_refused_when_the_product_is_saved(string url, string kind)
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var refused = await (await staff.PostJson("/api/products", new { sku = $"SSRF-{ProductTestKit.Tag()}", name = "SSRF", price = 1m, image_urls = new[] { url } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        refused.GetProperty("errors").GetProperty("image_urls").ToString().Should().Contain("blocked address").And.Contain(kind);
    }

    [Fact]
    public async Task A_refused_host_name_is_not_answered_with_the_address_it_resolves_to()
    {
        var seller = (await app.NewUserAsync(Roles.Seller)).Http;
        var refused = await (await seller.PostJson("/api/products", new { sku = $"SSRF-{ProductTestKit.Tag()}", name = "SSRF", price = 1m, image_urls = new[] { "http://localhost/x.jpg" } }))
            .ShouldBeProblem(HttpStatusCode.BadRequest);
        refused.GetProperty("errors").GetProperty("image_urls").ToString().Should().Contain("blocked address").And.Contain("localhost")
            .And.NotContain("127.0.0.1", "a seller naming an internal host must not learn its address").And.NotContain("::1");
    }
}
