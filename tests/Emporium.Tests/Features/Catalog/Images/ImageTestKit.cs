using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Emporium.Tests.Features.Jobs;
using Emporium.Tests.Infrastructure;
using NetVips;

namespace Emporium.Tests.Features.Catalog.Images;

/// <summary>Real image files for the pipeline: eShop's product pictures and images made here with libvips.</summary>
public static class TestImages
{
    public static byte[] Eshop(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Features", "Catalog", "Images", "Data", name));

    /// <summary>A noisy photo-like JPEG of <paramref name="width"/> x <paramref name="height"/>, optionally with an EXIF orientation.</summary>
    public static byte[] Jpeg(int width, int height, int? orientation = null)
    {
        using var noise = Image.Gaussnoise(width, height, mean: 128, sigma: 30);
        using var rgb = noise.Bandjoin(noise.Linear([0.5], [40]), noise.Linear([0.8], [10])).Cast(Enums.BandFormat.Uchar);
        if (orientation is { } value)
        {
            using var tagged = rgb.Mutate(m => m.Set(GValue.GIntType, "orientation", value));
            return tagged.JpegsaveBuffer(q: 80, keep: Enums.ForeignKeep.All);
        }

        return rgb.JpegsaveBuffer(q: 80);
    }

    public static byte[] Png(int width, int height) =>
        Image.Black(width, height, bands: 3).Linear([1], [90]).Cast(Enums.BandFormat.Uchar).PngsaveBuffer();

    /// <summary>A small PNG (a few hundred KB) whose header declares 20000 x 20000 = 400 megapixels.</summary>
    public static readonly Lazy<byte[]> Bomb = new(() => Image.Black(20_000, 20_000).Cast(Enums.BandFormat.Uchar).PngsaveBuffer(compression: 9));

    public static MultipartFormDataContent Files(params (byte[] Bytes, string FileName, string ContentType)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (bytes, fileName, contentType) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            form.Add(part, "file", fileName);
        }

        return form;
    }

    /// <summary>Loads an encoded image with libvips, for checking what the service wrote.</summary>
    public static Image Decode(byte[] bytes) => Image.NewFromBuffer(bytes);
}

public static class ImageClient
{
    public static async Task<JsonElement> UploadAsync(this HttpClient client, long productId, params (byte[] Bytes, string FileName, string ContentType)[] files)
    {
        using var form = TestImages.Files(files);
        var accepted = await (await client.PostAsync($"/api/products/{productId}/images", form)).ShouldBe(HttpStatusCode.Accepted);
        return accepted.GetProperty("images");
    }

    /// <summary>Polls the image until it is ready or failed.</summary>
    public static async Task<JsonElement> SettledAsync(this HttpClient client, long imageId, double seconds = 30)
    {
        var deadline = TestTime.Deadline(seconds);
        while (true)
        {
            var image = await (await client.GetAsync($"/api/images/{imageId}")).ShouldBe(HttpStatusCode.OK);
            if (image.Str("status") is "ready" or "failed")
            {
                return image;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Image {imageId} is still {image.Str("status")}.");
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>Fast jobs, image URLs allowed on loopback (the test's own server), small download limits to reach in tests.</summary>
internal static class ImageSettings
{
    public static EmporiumApp Apply(EmporiumApp app)
    {
        JobSettings.Apply(app);
        return app.With("Media:AllowPrivateNetworks", "true")
            .With("Media:MaxUploadBytes", "3000000")
            .With("Media:Download:MaxBytes", "3000000")
            .With("Media:Download:Timeout", "00:00:01")
            .With("Media:Download:MaxRedirects", "2")
            .With("Media:OrphanFileAge", "00:00:02");
    }
}

/// <summary>The embedded default: SQLite and files in a folder, served by the API under /media.</summary>
public class ImagesSqliteApp : SqliteApp
{
    public ImagesSqliteApp() => ImageSettings.Apply(this);
}

/// <summary>The production profile's parts: PostgreSQL and S3 (the test command's s3rver), /media redirecting to presigned URLs.</summary>
public class ImagesPostgresS3App : PostgresApp
{
    public ImagesPostgresS3App() => ImageSettings.Apply(this).UseS3();
}
