using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace Emporium.Features.Catalog.Images;

/// <summary>Product image settings (section Media, decision 0017): every limit on what is accepted and what is made.</summary>
public sealed partial class MediaOptions : IValidatableObject
{
    public const string Section = "Media";

    /// <summary>Largest file one upload part may be (413 beyond it, and nothing of the request is kept).</summary>
    [Range(1, 1L << 32)]
    public long MaxUploadBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Most files one upload request may carry.</summary>
    [Range(1, 100)]
    public int MaxFilesPerUpload { get; set; } = 10;

    /// <summary>Most images one product may have (422 beyond it).</summary>
    [Range(1, 1000)]
    public int MaxImagesPerProduct { get; set; } = 50;

    /// <summary>Images whose header declares more pixels than this fail before they are decoded (decompression bombs).</summary>
    [Range(1, 1_000_000_000)]
    public long MaxPixels { get; set; } = 50_000_000;

    /// <summary>Renditions made of every image, by the longest side; none is larger than the original. Default: thumb 160, small 320, medium 640, large 1280.</summary>
    public List<RenditionSize> Renditions { get; set; } = [];

    /// <summary>WebP quality (1-100).</summary>
    [Range(1, 100)]
    public int WebpQuality { get; set; } = 80;

    /// <summary>JPEG quality of the fallback renditions (1-100).</summary>
    [Range(1, 100)]
    public int JpegQuality { get; set; } = 82;

    /// <summary>
    /// Where clients fetch stored images: "/media" (the default) is served by the API (from the folder, or as a redirect to a
    /// presigned S3 URL); a CDN or public bucket URL (https://cdn.example.com/emporium) sends clients there directly.
    /// </summary>
    public string BaseUrl { get; set; } = "/media";

    /// <summary>How long the presigned URL /media redirects to on S3 stays valid.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan PresignedUrlLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Allows image URLs on loopback and private networks (development and tests only); cloud metadata addresses stay refused.</summary>
    public bool AllowPrivateNetworks { get; set; }

    public MediaDownloadOptions Download { get; set; } = new();

    /// <summary>How often worker processes look for image files no image owns (left by a crash or a failed store).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How old such a file must be to go: longer than any upload takes, so one in flight keeps its files.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan OrphanFileAge { get; set; } = TimeSpan.FromDays(1);

    public static readonly RenditionSize[] DefaultRenditions =
        [new("thumb", 160), new("small", 320), new("medium", 640), new("large", 1280)];

    /// <summary>The configured renditions, or the default set when none is configured, largest first.</summary>
    public IReadOnlyList<RenditionSize> Sizes =>
        [.. (Renditions.Count > 0 ? Renditions : (IEnumerable<RenditionSize>)DefaultRenditions).OrderByDescending(r => r.Size)];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var rendition in Renditions)
        {
            if (rendition.Name is null || !RenditionName().IsMatch(rendition.Name) || rendition.Name == "original")
            {
                yield return new ValidationResult(
                    $"Media:Renditions: '{rendition.Name}' is not a rendition name (1-32 lower-case letters, digits and dashes; not 'original').", [nameof(Renditions)]);
            }

            if (rendition.Size is < 16 or > 8192)
            {
                yield return new ValidationResult($"Media:Renditions: {rendition.Name}'s size must be between 16 and 8192 pixels.", [nameof(Renditions)]);
            }
        }

        if (Renditions.Select(r => r.Name).Distinct().Count() != Renditions.Count)
        {
            yield return new ValidationResult("Media:Renditions: names must be unique.", [nameof(Renditions)]);
        }

        if (string.IsNullOrWhiteSpace(BaseUrl) || !(BaseUrl.StartsWith('/') || Uri.TryCreate(BaseUrl, UriKind.Absolute, out _)))
        {
            yield return new ValidationResult($"Media:BaseUrl must be a path (/media) or an absolute URL, not '{BaseUrl}'.", [nameof(BaseUrl)]);
        }

        if (Download.Timeout < TimeSpan.FromSeconds(1) || Download.Timeout > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Media:Download:Timeout must be between 00:00:01 and 00:10:00.", ["Download:Timeout"]);
        }

        // Data annotations do not reach into nested objects, so Download's ranges are checked here.
        if (Download.MaxBytes is < 1 or > 1L << 32)
        {
            yield return new ValidationResult("Media:Download:MaxBytes must be between 1 and 4294967296.", ["Download:MaxBytes"]);
        }

        if (Download.MaxRedirects is < 0 or > 10)
        {
            yield return new ValidationResult("Media:Download:MaxRedirects must be between 0 and 10.", ["Download:MaxRedirects"]);
        }
    }

    [GeneratedRegex("^[a-z0-9-]{1,32}$")]
    private static partial Regex RenditionName();
}

/// <summary>A rendition: its name (thumb) and the length of its longest side in pixels.</summary>
public sealed class RenditionSize
{
    public RenditionSize()
    {
    }

    public RenditionSize(string name, int size) => (Name, Size) = (name, size);

    public string Name { get; set; } = "";

    public int Size { get; set; }
}

/// <summary>Limits on downloading an image from a URL (section Media:Download).</summary>
public sealed class MediaDownloadOptions
{
    /// <summary>Largest image a URL may deliver; larger fails the image at once. 1 to 4 GiB (checked by MediaOptions).</summary>
    public long MaxBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>The whole download (connect, redirects, body) must finish within this.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Redirects followed (each to an address the SSRF guard allows); more fails the image. 0 to 10 (checked by MediaOptions).</summary>
    public int MaxRedirects { get; set; } = 3;
}
