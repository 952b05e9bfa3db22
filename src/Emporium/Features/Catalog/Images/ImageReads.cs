namespace Emporium.Features.Catalog.Images;

/// <summary>Where clients fetch stored files: Media:BaseUrl followed by the file's key.</summary>
public sealed class MediaUrls(IOptions<MediaOptions> options)
{
    private readonly string _base = options.Value.BaseUrl.TrimEnd('/');

    public string For(string key) => $"{_base}/{key}";

    public ImageResponse ToResponse(ProductImage image) => new(
        image.Id,
        image.ProductId,
        image.VariantId,
        image.Position,
        image.AltText,
        image.Status,
        image.FailureReason,
        image.SourceUrl,
        image.OriginalKey is { } key
            ? new ImageOriginal(ImageEndpoints.OriginalPath(image.Id), image.OriginalContentType ?? "application/octet-stream", image.OriginalBytes ?? 0, image.Width, image.Height)
            : null,
        ImageReads.RenditionsOf(image).ConvertAll(r => new ImageRendition(r.Name, r.Format, For(r.Key), r.Width, r.Height, r.Bytes)),
        image.CreatedAt,
        image.UpdatedAt);
}

/// <summary>Reads of a product's images, shared by the product's own read, its ETag and the list's thumbnails.</summary>
internal static class ImageReads
{
    public static Task<List<ProductImage>> OfProductAsync(EmporiumDbContext db, long productId, CancellationToken cancellationToken) =>
        db.Set<ProductImage>().AsNoTracking()
            .Where(i => i.ProductId == productId)
            .OrderBy(i => i.Position).ThenBy(i => i.Id)
            .ToListAsync(cancellationToken);

    /// <summary>What a product's ETag takes from its images: every change raises an image's version.</summary>
    public static IEnumerable<(char Kind, long Id, int Version)> TagParts(IEnumerable<ProductImage> images) =>
        images.Select(i => ('i', i.Id, i.Version));

    public static List<StoredRendition> RenditionsOf(ProductImage image) =>
        image.Renditions is { } json ? JsonSerializer.Deserialize<List<StoredRendition>>(json, JsonOptions) ?? [] : [];

    public static string RenditionsJson(IEnumerable<StoredRendition> renditions) => JsonSerializer.Serialize(renditions, JsonOptions);

    /// <summary>
    /// The first ready image's smallest rendition of each product in <paramref name="productIds"/> (WebP), in one query for
    /// the whole page: products without a ready image are absent.
    /// </summary>
    public static async Task<Dictionary<long, ThumbnailRef>> FirstThumbnailsAsync(
        EmporiumDbContext db, MediaUrls urls, IReadOnlyCollection<long> productIds, CancellationToken cancellationToken)
    {
        if (productIds.Count == 0)
        {
            return [];
        }

        var images = db.Set<ProductImage>();
        var ready = await images.AsNoTracking()
            .Where(i => productIds.Contains(i.ProductId) && i.Status == ImageStatus.READY)
            .Where(i => !images.Any(o => o.ProductId == i.ProductId && o.Status == ImageStatus.READY
                && (o.Position < i.Position || (o.Position == i.Position && o.Id < i.Id))))
            .Select(i => new { i.ProductId, i.Renditions })
            .ToListAsync(cancellationToken);
        var thumbnails = new Dictionary<long, ThumbnailRef>();
        foreach (var image in ready)
        {
            if (thumbnails.ContainsKey(image.ProductId) || image.Renditions is null)
            {
                continue;
            }

            var smallest = (JsonSerializer.Deserialize<List<StoredRendition>>(image.Renditions, JsonOptions) ?? [])
                .Where(r => r.Format == "webp").MinBy(r => r.Width * r.Height);
            if (smallest is not null)
            {
                thumbnails[image.ProductId] = new ThumbnailRef(urls.For(smallest.Key), smallest.Width, smallest.Height);
            }
        }

        return thumbnails;
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
