using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Emporium.Data;
using Emporium.Features.Catalog;
using Emporium.Features.Catalog.Images;
using Emporium.Features.Events;
using Emporium.Features.Jobs;
using Emporium.Platform.Security;
using Emporium.Tests.Features.Catalog.Products;
using Emporium.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Emporium.Tests.Features.Catalog.Images;

/// <summary>
/// Product images through the whole pipeline (issue 15, decision 0017): upload, background processing with libvips, the
/// file store and /media, on the embedded default (SQLite, local folder) and the production parts (PostgreSQL, S3).
/// </summary>
public abstract class ImageTests(EmporiumApp app)
{
    private static readonly string[] Renditions = ["large", "medium", "small", "thumb"];

    private async Task<HttpClient> StaffAsync() => (await app.NewUserAsync(Roles.Staff)).Http;

    private static async Task<long> ProductAsync(HttpClient staff)
    {
        var tag = ProductTestKit.Tag();
        return (await staff.CreateProductAsync(new { sku = $"IMG-{tag}", name = $"Pictured {tag}", price = 5m })).Id();
    }

    /// <summary>The file behind a URL the API gave out, as a browser would fetch it (following S3's redirect to a presigned URL).</summary>
    private async Task<(HttpResponseMessage Response, byte[] Bytes)> FetchAsync(string url, HttpClient? client = null)
    {
        var response = await (client ?? app.Anonymous()).GetAsync(url);
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            response.Headers.CacheControl!.Private.Should().BeTrue("a presigned URL expires: the redirect must not be cached by shared caches");
            using var outside = new HttpClient();
            response = await outside.GetAsync(response.Headers.Location);
        }

        response.StatusCode.Should().Be(HttpStatusCode.OK, url);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private Task<List<string>> StoredKeysAsync(long productId) =>
        app.WithDbAsync(async db => await db.Set<ProductImage>().Where(i => i.ProductId == productId).Select(i => i.StoragePrefix).ToListAsync());

    [Fact]
    public async Task The_sweep_removes_old_files_no_image_owns_and_keeps_an_images_files_and_an_upload_in_flight()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Jpeg(400, 300), "kept.jpg", "image/jpeg"), (TestImages.Jpeg(400, 300), "lost.jpg", "image/jpeg"));
        var kept = images[0].GetProperty("id").GetInt64();
        var lost = images[1].GetProperty("id").GetInt64();
        await staff.SettledAsync(kept);
        await staff.SettledAsync(lost);
        var prefixes = await app.WithDbAsync(db => db.Set<ProductImage>().Where(i => i.Id == kept || i.Id == lost)
            .ToDictionaryAsync(i => i.Id, i => i.StoragePrefix));
        // A crash between deleting the row and deleting its files (the API deletes files after the commit).
        await app.WithDbAsync(db => db.Set<ProductImage>().Where(i => i.Id == lost).ExecuteDeleteAsync());
        using var scope = app.Services.CreateScope();
        var store = scope.ServiceProvider.GetRequiredService<Emporium.Platform.Storage.IFileStore>();
        async Task<List<string>> FilesAsync(string prefix) =>
            (await store.ListAsync(prefix + "/", CancellationToken.None).ToListAsync()).ConvertAll(f => f.Key);
        (await FilesAsync(prefixes[lost])).Should().HaveCountGreaterThan(1, "the original and its renditions");

        // Older than Media:OrphanFileAge (2 s here); then an upload in flight stores a file whose row is not written yet.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var inFlight = ProductImage.NewPrefix(productId);
        await store.PutAsync($"{inFlight}/original.jpg", new MemoryStream(TestImages.Jpeg(10, 10)), "image/jpeg", CancellationToken.None);
        var swept = await app.Services.GetRequiredService<ImageFileSweep>().SweepAsync(CancellationToken.None);

        (await FilesAsync(prefixes[lost])).Should().BeEmpty("no image owns them");
        swept.Should().BeGreaterThanOrEqualTo(2);
        (await FilesAsync(prefixes[kept])).Should().HaveCountGreaterThan(1, "a live image keeps its files, however old");
        (await FilesAsync(inFlight)).Should().ContainSingle("a file younger than Media:OrphanFileAge may belong to an upload in flight");
        var served = await (await staff.GetAsync($"/api/images/{kept}")).ShouldBe(HttpStatusCode.OK);
        (await FetchAsync(served.GetProperty("renditions").EnumerateArray().First().Str("url"))).Bytes.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Uploaded_photos_become_renditions_in_webp_and_jpeg_that_are_served_and_announced()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var before = await staff.GetAsync($"/api/products/{productId}");
        var tagBefore = before.Headers.ETag!.Tag;

        var images = await staff.UploadAsync(productId,
            (TestImages.Eshop("1.webp"), "shoe.webp", "image/webp"),
            (TestImages.Jpeg(3000, 2000), "photo.jpg", "image/jpeg"));
        images.GetArrayLength().Should().Be(2);
        images.EnumerateArray().Select(i => i.Str("status")).Should().AllBe("pending");
        images.EnumerateArray().Select(i => i.GetProperty("position").GetInt32()).Should().Equal(0, 1);

        var eshop = await staff.SettledAsync(images[0].Id());
        var photo = await staff.SettledAsync(images[1].Id());
        eshop.Str("status").Should().Be("ready", eshop.GetProperty("failure_reason").ToString());
        photo.Str("status").Should().Be("ready", photo.GetProperty("failure_reason").ToString());

        var original = photo.GetProperty("original");
        original.Str("content_type").Should().Be("image/jpeg");
        (original.GetProperty("width").GetInt32(), original.GetProperty("height").GetInt32()).Should().Be((3000, 2000));
        var renditions = photo.GetProperty("renditions").EnumerateArray().ToList();
        renditions.Select(r => (r.Str("name"), r.Str("format"))).Should().BeEquivalentTo(
            Renditions.SelectMany(name => new[] { (name, "webp"), (name, "jpeg") }));
        foreach (var rendition in renditions)
        {
            var longest = Math.Max(rendition.GetProperty("width").GetInt32(), rendition.GetProperty("height").GetInt32());
            longest.Should().Be(rendition.Str("name") switch { "thumb" => 160, "small" => 320, "medium" => 640, _ => 1280 });
            var (response, bytes) = await FetchAsync(rendition.Str("url"));
            bytes.LongLength.Should().Be(rendition.GetProperty("bytes").GetInt64());
            using var decoded = TestImages.Decode(bytes);
            (decoded.Width, decoded.Height).Should().Be((rendition.GetProperty("width").GetInt32(), rendition.GetProperty("height").GetInt32()));
            decoded.Get("vips-loader").Should().Be(rendition.Str("format") == "webp" ? "webpload_buffer" : "jpegload_buffer");
            decoded.Interpretation.Should().Be(NetVips.Enums.Interpretation.Srgb);
            decoded.GetFields().Should().NotContain(["exif-data", "xmp-data", "icc-profile-data"], "metadata is stripped");
            if (app.Provider == Emporium.Infrastructure.Persistence.DatabaseProvider.Sqlite)
            {
                response.Content.Headers.ContentType!.MediaType.Should().Be($"image/{rendition.Str("format")}");
                response.Headers.CacheControl!.ToString().Should().Contain("immutable").And.Contain("max-age=31536000");
                response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
            }
        }

        // eShop's 600x600 picture is never upscaled: large and medium stay at its own size or below.
        eshop.GetProperty("renditions").EnumerateArray().Max(r => r.GetProperty("width").GetInt32()).Should().Be(600);
        (await FetchAsync(original.Str("url"), staff)).Bytes.LongLength.Should().Be(original.GetProperty("bytes").GetInt64());
        // The original keeps what the camera wrote (GPS position included): its owner and staff fetch it, nobody else.
        (await app.Anonymous().GetAsync(original.Str("url"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var stranger = (await app.NewUserAsync(Roles.Seller)).Http;
        (await stranger.GetAsync(original.Str("url"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var originalKey = await app.WithDbAsync(db => db.Set<ProductImage>().Where(i => i.Id == photo.Id()).Select(i => i.OriginalKey).SingleAsync());
        (await app.Anonymous().GetAsync($"/media/{originalKey}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "an original is never served under /media");

        var product = await staff.GetAsync($"/api/products/{productId}");
        product.Headers.ETag!.Tag.Should().NotBe(tagBefore, "the product's ETag covers its images");
        var body = await product.ShouldBe(HttpStatusCode.OK);
        body.GetProperty("images").EnumerateArray().Select(i => i.Id()).Should().Equal(images[0].Id(), images[1].Id());

        var ready = await app.WithDbAsync(db => db.Set<OutboxEvent>().Where(e => e.Type == EventTypes.ImagesReady).Select(e => e.Data).ToListAsync());
        ready.Select(data => JsonDocument.Parse(data).RootElement).Where(data => data.GetProperty("product_id").GetInt64() == productId)
            .Should().ContainSingle("announced once, when the last of the two settled")
            .Which.GetProperty("images").EnumerateArray().Select(i => i.Str("status")).Should().Equal("ready", "ready");
    }

    [Fact]
    public async Task The_exif_orientation_is_applied_and_a_png_with_alpha_gets_a_flat_jpeg()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Jpeg(400, 200, orientation: 6), "rotated.jpg", "image/jpeg"));

        var image = await staff.SettledAsync(images[0].Id());
        image.Str("status").Should().Be("ready");
        var thumb = image.GetProperty("renditions").EnumerateArray().First(r => r.Str("name") == "thumb" && r.Str("format") == "jpeg");
        (thumb.GetProperty("width").GetInt32(), thumb.GetProperty("height").GetInt32()).Should().Be((80, 160), "orientation 6 turns 400x200 upright");
        var original = image.GetProperty("original");
        (original.GetProperty("width").GetInt32(), original.GetProperty("height").GetInt32()).Should().Be((200, 400), "the photo's size is reported upright too");
    }

    [Fact]
    public async Task A_file_is_judged_by_its_bytes_and_a_refused_upload_keeps_nothing()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><script>alert(1)</script></svg>"u8.ToArray();
        var html = "<!DOCTYPE html><html><body>hello</body></html>"u8.ToArray();

        foreach (var (bytes, name) in new[] { (svg, "logo.png"), (html, "page.png") })
        {
            using var form = TestImages.Files((TestImages.Png(20, 20), "fine.png", "image/png"), (bytes, name, "image/png"));
            var refused = await (await staff.PostAsync($"/api/products/{productId}/images", form)).ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
            refused.Str("detail").Should().Contain("File 2").And.Contain("not a JPEG");
        }

        using (var tooLarge = TestImages.Files((TestImages.Png(20, 20), "fine.png", "image/png"), (new byte[3_000_001].Also(b => (b[0], b[1], b[2]) = ((byte)0xFF, (byte)0xD8, (byte)0xFF)), "big.jpg", "image/jpeg")))
        {
            (await staff.PostAsync($"/api/products/{productId}/images", tooLarge)).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        }

        using (var notMultipart = new ByteArrayContent(TestImages.Png(20, 20)))
        {
            notMultipart.Headers.ContentType = new("image/png");
            (await staff.PostAsync($"/api/products/{productId}/images", notMultipart)).StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        }

        (await StoredKeysAsync(productId)).Should().BeEmpty("no refused request leaves a row");
        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<Emporium.Platform.Storage.IFileStore>();
        (await store.ListAsync($"images/{productId}/", CancellationToken.None).ToListAsync()).Should().BeEmpty("nor a file");
    }

    [Fact]
    public async Task A_hostile_file_name_is_never_used_for_storage()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Png(30, 30), "../../x.png", "image/png"));

        var image = await staff.SettledAsync(images[0].Id());
        var urls = image.GetProperty("renditions").EnumerateArray().Select(r => r.Str("url")).ToList();
        urls.Should().AllSatisfy(url => url.Should().StartWith($"/media/images/{productId}/").And.NotContain("x.png").And.NotContain(".."));
        image.GetProperty("original").Str("url").Should().Be($"/api/images/{image.Id()}/original");
        Directory.EnumerateFiles(Path.GetDirectoryName(app.DataDirectory)!, "x.png", SearchOption.TopDirectoryOnly).Should().BeEmpty();
        Directory.EnumerateFiles(app.DataDirectory, "x.png", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public async Task A_decompression_bomb_fails_with_its_reason_and_other_images_keep_flowing()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Bomb.Value, "bomb.png", "image/png"), (TestImages.Png(50, 40), "fine.png", "image/png"));

        var bomb = await staff.SettledAsync(images[0].Id());
        bomb.Str("status").Should().Be("failed");
        bomb.Str("failure_reason").Should().Contain("20000x20000").And.Contain("Media:MaxPixels");
        (await staff.SettledAsync(images[1].Id())).Str("status").Should().Be("ready");
        var job = await app.WithDbAsync(db => db.Set<Job>().Where(j => j.Kind == ImageProcessingJobHandler.KindName && j.Payload.Contains($"\"image_id\":{images[0].Id()},")).FirstAsync());
        job.Status.Should().Be(JobStatus.FAILED, "retrying cannot help");
        job.Attempts.Should().Be(1);

        (await (await staff.PostAsync($"/api/images/{images[1].Id()}/retry", null)).ShouldBeProblem(HttpStatusCode.Conflict))
            .Str("detail").Should().Contain("ready");
    }

    [Fact]
    public async Task Processing_an_image_again_after_a_lost_worker_leaves_one_row_and_one_set_of_files()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Jpeg(700, 500), "once.jpg", "image/jpeg"));
        var first = await staff.SettledAsync(images[0].Id());
        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<Emporium.Platform.Storage.IFileStore>();
        var files = await store.ListAsync($"images/{productId}/", CancellationToken.None).Select(f => f.Key).OrderBy(k => k).ToListAsync();
        files.Should().HaveCount(9, "the original and eight renditions");

        // As if the worker died after writing the files but before recording them, and the job was delivered again.
        await app.WithDbAsync(async db =>
        {
            await db.Set<ProductImage>().Where(i => i.Id == images[0].Id()).ExecuteUpdateAsync(set => set.SetProperty(i => i.Status, ImageStatus.PROCESSING));
            db.Add(new Job
            {
                Kind = ImageProcessingJobHandler.KindName, Payload = $"{{\"image_id\":{images[0].Id()}}}", Status = JobStatus.PENDING, MaxAttempts = 3,
                NextRunAt = DateTime.UtcNow, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            });
            return await db.SaveChangesAsync();
        });

        var again = await staff.SettledAsync(images[0].Id());
        again.Str("status").Should().Be("ready");
        again.GetProperty("renditions").ToString().Should().Be(first.GetProperty("renditions").ToString(), "the same names, sizes and bytes");
        (await store.ListAsync($"images/{productId}/", CancellationToken.None).Select(f => f.Key).OrderBy(k => k).ToListAsync()).Should().Equal(files);
        (await app.WithDbAsync(db => db.Set<ProductImage>().CountAsync(i => i.ProductId == productId))).Should().Be(1);
    }

    [Fact]
    public async Task An_image_whose_job_is_cancelled_shows_as_failed_and_can_be_retried()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        // An image queued for later (a URL image waiting its turn): its job has not started.
        var (imageId, jobId) = await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var image = new ProductImage
            {
                ProductId = productId, StoragePrefix = $"images/{productId}/cancelled", SourceUrl = "https://example.com/a.jpg",
                CreatedAt = now, UpdatedAt = now,
            };
            db.Add(image);
            await db.SaveChangesAsync();
            var job = new Job
            {
                Kind = ImageProcessingJobHandler.KindName, Payload = $"{{\"image_id\":{image.Id}}}", Status = JobStatus.PENDING, MaxAttempts = 3,
                NextRunAt = now.AddHours(1), CreatedAt = now, UpdatedAt = now,
            };
            db.Add(job);
            await db.SaveChangesAsync();
            return (image.Id, job.Id);
        });

        await (await staff.PostAsync($"/api/jobs/{jobId}/cancel", null)).ShouldBe(HttpStatusCode.OK);

        var image = await (await staff.GetAsync($"/api/images/{imageId}")).ShouldBe(HttpStatusCode.OK);
        image.Str("status").Should().Be("failed", "its job will never run, so it is not waiting for anything");
        image.Str("failure_reason").Should().Contain("Cancelled");
    }

    [Fact]
    public async Task A_job_that_runs_again_after_its_image_was_deleted_removes_what_an_earlier_attempt_left()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Jpeg(300, 200), "gone.jpg", "image/jpeg"));
        await staff.SettledAsync(images[0].Id());
        var prefix = await app.WithDbAsync(db => db.Set<ProductImage>().Where(i => i.Id == images[0].Id()).Select(i => i.StoragePrefix).SingleAsync());
        await (await staff.DeleteAsync($"/api/images/{images[0].Id()}")).ShouldBe(HttpStatusCode.NoContent);
        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<Emporium.Platform.Storage.IFileStore>();

        // An attempt that was still running stores a rendition after the delete cleared the files, then fails; its job
        // runs again.
        await using (var late = new MemoryStream([1, 2, 3]))
        {
            await store.PutAsync($"{prefix}/thumb.webp", late, "image/webp", CancellationToken.None);
        }

        var job = await app.WithDbAsync(async db =>
        {
            var row = new Job
            {
                Kind = ImageProcessingJobHandler.KindName, Payload = $"{{\"image_id\":{images[0].Id()},\"storage_prefix\":\"{prefix}\"}}",
                Status = JobStatus.PENDING, MaxAttempts = 3, NextRunAt = DateTime.UtcNow, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            };
            db.Add(row);
            await db.SaveChangesAsync();
            return row.Id;
        });
        (await Emporium.Tests.Features.Import.Uploads.WaitAsync(staff, job)).Str("status").Should().Be("COMPLETED");

        (await store.ListAsync($"{prefix}/", CancellationToken.None).ToListAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Images_are_reordered_described_linked_to_a_variant_and_deleted_with_their_files()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId,
            (TestImages.Png(40, 40), "a.png", "image/png"), (TestImages.Png(41, 41), "b.png", "image/png"), (TestImages.Png(42, 42), "c.png", "image/png"));
        var ids = images.EnumerateArray().Select(i => i.Id()).ToArray();
        foreach (var id in ids)
        {
            (await staff.SettledAsync(id)).Str("status").Should().Be("ready");
        }

        var reordered = await (await staff.PutJson($"/api/products/{productId}/images/order", new { image_ids = new[] { ids[2], ids[0], ids[1] } })).ShouldBe(HttpStatusCode.OK);
        reordered.EnumerateArray().Select(i => i.Id()).Should().Equal(ids[2], ids[0], ids[1]);
        (await (await staff.PutJson($"/api/products/{productId}/images/order", new { image_ids = new[] { ids[2], ids[0] } })).ShouldBeProblem(HttpStatusCode.BadRequest))
            .GetProperty("errors").GetProperty("image_ids").ToString().Should().Contain("exactly once");

        var product = await (await app.Anonymous().GetAsync($"/api/products/{productId}")).ShouldBe(HttpStatusCode.OK);
        product.GetProperty("images").EnumerateArray().Select(i => i.Id()).Should().Equal(ids[2], ids[0], ids[1]);

        var variant = product.GetProperty("variants")[0].Id();
        var current = await staff.GetAsync($"/api/images/{ids[0]}");
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/images/{ids[0]}") { Content = JsonContent.Create(new { alt_text = "  The red one  ", variant_id = variant }) };
        patch.Headers.IfMatch.Add(current.Headers.ETag!);
        var patched = await (await staff.SendAsync(patch)).ShouldBe(HttpStatusCode.OK);
        patched.Str("alt_text").Should().Be("The red one");
        patched.GetProperty("variant_id").GetInt64().Should().Be(variant);
        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/images/{ids[0]}") { Content = JsonContent.Create(new { alt_text = "late" }) };
        stale.Headers.IfMatch.Add(current.Headers.ETag!);
        (await staff.SendAsync(stale)).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await (await staff.PatchJson($"/api/images/{ids[0]}", new { variant_id = 999_999_999 })).ShouldBeProblem(HttpStatusCode.BadRequest))
            .GetProperty("errors").GetProperty("variant_id").ToString().Should().Contain("no live variant");

        var doomed = await staff.SettledAsync(ids[1]);
        var url = doomed.GetProperty("renditions")[0].Str("url");
        (await staff.DeleteAsync($"/api/images/{ids[1]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await staff.GetAsync($"/api/images/{ids[1]}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var gone = await app.Anonymous().GetAsync(url);
        if (gone.StatusCode == HttpStatusCode.Redirect)
        {
            gone = await new HttpClient().GetAsync(gone.Headers.Location);
        }

        gone.StatusCode.Should().Be(HttpStatusCode.NotFound, "the files go with the image");

        // No gap is left: the images after a deleted one move up. If-Match: * asks only that the image exists.
        var any = new HttpRequestMessage(HttpMethod.Delete, $"/api/images/{ids[2]}");
        any.Headers.TryAddWithoutValidation("If-Match", "*");
        (await staff.SendAsync(any)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await (await staff.GetAsync($"/api/images/{ids[0]}")).ShouldBe(HttpStatusCode.OK)).GetProperty("position").GetInt32().Should().Be(0);
        var next = await staff.UploadAsync(productId, (TestImages.Png(43, 43), "d.png", "image/png"));
        next[0].GetProperty("position").GetInt32().Should().Be(1);
    }

    [Fact]
    public async Task Lists_carry_each_products_first_ready_thumbnail_when_asked()
    {
        var staff = await StaffAsync();
        var tag = ProductTestKit.Tag();
        var with = (await staff.CreateProductAsync(new { sku = $"THUMB-{tag}-A", name = $"Thumb {tag} A", price = 1m })).Id();
        var without = (await staff.CreateProductAsync(new { sku = $"THUMB-{tag}-B", name = $"Thumb {tag} B", price = 1m })).Id();
        var images = await staff.UploadAsync(with, (TestImages.Png(300, 200), "first.png", "image/png"), (TestImages.Png(200, 300), "second.png", "image/png"));
        await staff.SettledAsync(images[0].Id());
        await staff.SettledAsync(images[1].Id());

        var page = await (await app.Anonymous().GetAsync($"/api/products?search=THUMB-{tag}&include=thumbnail")).ShouldBe(HttpStatusCode.OK);
        var items = page.GetProperty("results").EnumerateArray().ToDictionary(i => i.Id());
        items[with].TryGetProperty("thumbnail", out var thumbnail).Should().BeTrue(page.ToString());
        (thumbnail.GetProperty("width").GetInt32(), thumbnail.GetProperty("height").GetInt32()).Should().Be((160, 107), "the first image's thumb");
        thumbnail.Str("url").Should().EndWith("/thumb.webp");
        items[without].TryGetProperty("thumbnail", out _).Should().BeFalse();

        var plain = await (await app.Anonymous().GetAsync($"/api/products?search=THUMB-{tag}")).ShouldBe(HttpStatusCode.OK);
        plain.GetProperty("results").EnumerateArray().Should().AllSatisfy(i => i.TryGetProperty("thumbnail", out _).Should().BeFalse());
        (await app.Anonymous().GetAsync($"/api/products?include=everything")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Only_the_owner_or_staff_add_images_and_hidden_products_hide_them()
    {
        var seller = await app.NewUserAsync(Roles.Seller);
        var other = await app.NewUserAsync(Roles.Seller);
        var tag = ProductTestKit.Tag();
        var productId = (await seller.Http.CreateProductAsync(new { sku = $"OWN-{tag}", name = $"Own {tag}", price = 1m, is_active = false })).Id();

        using (var form = TestImages.Files((TestImages.Png(20, 20), "a.png", "image/png")))
        {
            (await other.Http.PostAsync($"/api/products/{productId}/images", form)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        var images = await seller.Http.UploadAsync(productId, (TestImages.Png(20, 20), "a.png", "image/png"));
        (await app.Anonymous().GetAsync($"/api/images/{images[0].Id()}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the product is inactive");
        (await other.Http.DeleteAsync($"/api/images/{images[0].Id()}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await seller.Http.GetAsync($"/api/images/{images[0].Id()}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await app.Anonymous().GetAsync("/media/imports/whatever.csv")).StatusCode.Should().Be(HttpStatusCode.NotFound, "/media serves images only");
        (await app.Anonymous().GetAsync($"/media/images/{new string('a', 300)}.jpg")).StatusCode.Should()
            .Be(HttpStatusCode.NotFound, "a name longer than any file can have is missing (Linux refused to open it: a 500)");
        var longPath = string.Join('/', Enumerable.Repeat(new string('a', 250), 20));
        (await app.Anonymous().GetAsync($"/media/images/{longPath}.jpg")).StatusCode.Should()
            .Be(HttpStatusCode.NotFound, "a path longer than any file can have is missing (Linux refused to open it: a 500)");
    }

    [Fact]
    public async Task A_deleted_products_images_are_not_changed_until_it_is_restored()
    {
        var staff = await StaffAsync();
        var productId = await ProductAsync(staff);
        var images = await staff.UploadAsync(productId, (TestImages.Png(20, 20), "a.png", "image/png"), (TestImages.Png(20, 20), "b.png", "image/png"));
        var (first, second) = (images[0].Id(), images[1].Id());
        (await staff.DeleteAsync($"/api/products/{productId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        using (var form = TestImages.Files((TestImages.Png(20, 20), "c.png", "image/png")))
        {
            (await (await staff.PostAsync($"/api/products/{productId}/images", form)).ShouldBeProblem(HttpStatusCode.Conflict))
                .Str("detail").Should().Contain("restore");
        }

        await (await staff.PutJson($"/api/products/{productId}/images/order", new { image_ids = new[] { second, first } })).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.PatchJson($"/api/images/{first}", new { alt_text = "Front" })).ShouldBeProblem(HttpStatusCode.Conflict);
        await (await staff.DeleteAsync($"/api/images/{second}")).ShouldBeProblem(HttpStatusCode.Conflict);
        var kept = await (await staff.GetAsync($"/api/products/{productId}/images")).ShouldBe(HttpStatusCode.OK);
        kept.EnumerateArray().Select(i => (i.Id(), i.GetProperty("alt_text").ValueKind)).Should().Equal((first, JsonValueKind.Null), (second, JsonValueKind.Null));

        (await staff.PostAsync($"/api/products/{productId}/restore", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await (await staff.PatchJson($"/api/images/{first}", new { alt_text = "Front" })).ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class ImageTestsOnSqliteAndFolder(ImagesSqliteApp app) : ImageTests(app), IClassFixture<ImagesSqliteApp>;

public sealed class ImageTestsOnPostgresAndS3(ImagesPostgresS3App app) : ImageTests(app), IClassFixture<ImagesPostgresS3App>;

internal static class Fluent
{
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}

/// <summary>
/// On PostgreSQL image writes queue behind the product's image lock (SQLite has one writer): another transaction holds it
/// here, as a delete shifting positions does, so the wait is certain rather than a matter of timing.
/// </summary>
public sealed class ImageLockTestsOnPostgres(ImagesPostgresS3App app) : IClassFixture<ImagesPostgresS3App>
{
    [Fact]
    public async Task An_upload_that_ends_after_its_product_was_deleted_keeps_nothing_and_says_so()
    {
        // Checked before the files streamed in only: the rows and jobs were committed on a deleted product, and 202 said so.
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var productId = (await staff.CreateProductAsync(new { sku = $"RACE-{tag}", name = $"Raced {tag}", price = 5m })).Id();

        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<EmporiumDbContext>();
        await using (var held = await db.Database.BeginTransactionAsync())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM products WHERE id = {productId} FOR UPDATE");
            using var form = TestImages.Files((TestImages.Jpeg(64, 48), "late.jpg", "image/jpeg"));
            var upload = staff.PostAsync($"/api/products/{productId}/images", form);
            await app.WaitForALockWaitAsync();

            var now = DateTime.UtcNow;
            await db.Set<Product>().Where(p => p.Id == productId).ExecuteUpdateAsync(set => set.SetProperty(p => p.DeletedAt, now));
            await held.CommitAsync();

            var problem = await (await upload).ShouldBeProblem(HttpStatusCode.Conflict);
            problem.Str("detail").Should().Contain("deleted");
        }

        (await app.WithDbAsync(other => other.Set<ProductImage>().CountAsync(i => i.ProductId == productId))).Should().Be(0);
    }

    [Fact]
    public async Task An_alt_text_edit_waiting_on_a_variants_delete_does_not_write_the_deleted_link_back()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var productId = (await staff.CreateProductAsync(new { sku = $"LINK-{tag}", name = $"Linked {tag}", price = 5m })).Id();
        var image = (await staff.UploadAsync(productId, (TestImages.Png(20, 20), "a.png", "image/png")))[0].Id();
        await staff.SettledAsync(image);
        var variant = (await (await staff.GetAsync($"/api/products/{productId}")).ShouldBe(HttpStatusCode.OK)).GetProperty("variants")[0].Id();
        await (await staff.PatchJson($"/api/images/{image}", new { variant_id = variant })).ShouldBe(HttpStatusCode.OK);

        await using var holder = app.Services.CreateAsyncScope();
        var db = holder.ServiceProvider.GetRequiredService<Emporium.Data.EmporiumDbContext>();
        await using (var held = await db.Database.BeginTransactionAsync())
        {
            // What a variant's delete does under the product's lock: its images show the product as a whole from then on.
            await db.Database.ExecuteSqlAsync($"UPDATE products SET version = version WHERE id = {productId}");
            var edit = staff.PatchJson($"/api/images/{image}", new { alt_text = "Front" });
            await app.WaitForALockWaitAsync();
            await db.Database.ExecuteSqlAsync($"UPDATE product_images SET variant_id = NULL, version = version + 1 WHERE id = {image}");
            await held.CommitAsync();

            var edited = await (await edit).ShouldBe(HttpStatusCode.OK);
            edited.Str("alt_text").Should().Be("Front");
            edited.GetProperty("variant_id").ValueKind.Should().Be(JsonValueKind.Null, "the edit read the image after the delete unlinked it");
        }
    }

    [Fact]
    public async Task Reordering_and_linking_images_wait_for_a_write_that_holds_the_products_images()
    {
        var staff = (await app.NewUserAsync(Roles.Staff)).Http;
        var tag = ProductTestKit.Tag();
        var productId = (await staff.CreateProductAsync(new { sku = $"LOCK-{tag}", name = $"Locked {tag}", price = 5m })).Id();
        var images = await staff.UploadAsync(productId, (TestImages.Png(20, 20), "a.png", "image/png"), (TestImages.Png(20, 20), "b.png", "image/png"));
        var (first, second) = (images[0].Id(), images[1].Id());
        await staff.SettledAsync(first);
        await staff.SettledAsync(second);

        foreach (var write in new Func<Task<HttpResponseMessage>>[]
        {
            () => staff.PutJson($"/api/products/{productId}/images/order", new { image_ids = new[] { second, first } }),
            () => staff.PatchJson($"/api/images/{first}", new { alt_text = "Front" }),
        })
        {
            await using var holder = app.Services.CreateAsyncScope();
            var db = holder.ServiceProvider.GetRequiredService<Emporium.Data.EmporiumDbContext>();
            await using var held = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlAsync($"UPDATE products SET version = version WHERE id = {productId}");
            var waiting = write();
            await app.WaitForALockWaitAsync();
            waiting.IsCompleted.Should().BeFalse("the write waits for the product's images");
            await held.RollbackAsync();
            await (await waiting).ShouldBe(HttpStatusCode.OK);
        }
    }
}
